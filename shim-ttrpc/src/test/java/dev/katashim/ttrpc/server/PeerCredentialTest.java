package dev.katashim.ttrpc.server;

import dev.katashim.ttrpc.testing.EchoService;
import dev.katashim.ttrpc.testing.TempSockets;
import dev.katashim.ttrpc.transport.Endpoint;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Who may talk to a ttrpc server on a unix socket: only peers of the server's own uid and gid
 * (SO_PEERCRED), as containerd's shims require, even when the socket's file mode would let another
 * user connect. The other user is real: a client run as {@code nobody} with setpriv(1).
 */
class PeerCredentialTest {
    private static final long CLIENT_DEADLINE_SECONDS = 30; // generous: the machine may be busy
    /** A ttrpc client in perl: connects, sends one Echo request, prints how many answer bytes came before EOF. */
    private static final String CLIENT = """
            use Socket; alarm 20;
            socket(my $s, PF_UNIX, SOCK_STREAM, 0) or die "socket: $!";
            connect($s, pack_sockaddr_un($ARGV[0])) or do { print "cannot connect: $!\\n"; exit 0 };
            my ($svc, $m, $p) = ($ARGV[1], "Echo", "\\x0a\\x02hi");
            my $req = "\\x0a" . chr(length $svc) . $svc . "\\x12" . chr(length $m) . $m . "\\x1a" . chr(length $p) . $p;
            syswrite($s, pack("NNCC", length $req, 1, 1, 0) . $req);
            my $total = 0;
            while (my $n = sysread($s, my $buf, 4096)) { $total += $n; last if $total >= 10; }
            print "answered $total bytes\\n";
            """;

    private final TempSockets sockets = new TempSockets();
    private Path socket;
    private TtrpcServer server;

    @BeforeEach
    void start() throws Exception {
        assumeTrue(System.getProperty("user.name").equals("root"), "switching to another uid needs root");
        Files.setPosixFilePermissions(sockets.dir(), PosixFilePermissions.fromString("rwxr-xr-x"));
        socket = sockets.path("peer.sock");
        server = TtrpcServer.builder().service(new EchoService().definition()).build().listen(new Endpoint.UnixPath(socket));
    }

    @AfterEach
    void stop() throws Exception {
        if (server != null) {
            server.close();
        }
        sockets.close();
    }

    private String client(boolean asNobody) throws Exception {
        List<String> command = new ArrayList<>();
        if (asNobody) {
            command.addAll(List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"));
        }
        command.addAll(List.of("perl", "-e", CLIENT, socket.toString(), EchoService.NAME));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        assertThat(process.waitFor(CLIENT_DEADLINE_SECONDS, TimeUnit.SECONDS)).isTrue();
        return new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    }

    @Test
    void theSocketsModeKeepsOtherUsersOut() throws Exception {
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(socket))).isEqualTo("rw-------");
        assertThat(client(true)).isEqualTo("cannot connect: Permission denied");
    }

    @Test
    void aPeerOfAnotherUidIsClosedUnansweredEvenWhenTheModeLetsItConnect() throws Exception {
        Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-rw-rw-"));
        assertThat(client(false)).as("the owner is answered").startsWith("answered ").isNotEqualTo("answered 0 bytes");
        assertThat(client(true)).isEqualTo("answered 0 bytes");
        assertThat(client(false)).as("and still served afterwards").isNotEqualTo("answered 0 bytes");
    }
}
