package dev.katashim.ttrpc.transport;

import com.google.protobuf.StringValue;
import dev.katashim.ttrpc.client.CallOptions;
import dev.katashim.ttrpc.client.TtrpcClient;
import dev.katashim.ttrpc.server.TtrpcServer;
import dev.katashim.ttrpc.testing.EchoService;
import dev.katashim.ttrpc.testing.TempSockets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.UUID;

import static dev.katashim.ttrpc.testing.EchoService.NAME;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TransportsTest {
    private final TempSockets sockets = new TempSockets();

    @AfterEach
    void cleanUp() throws IOException {
        sockets.close();
    }

    private static TtrpcServer echoServer(Endpoint endpoint) throws IOException {
        return TtrpcServer.builder().service(new EchoService().definition()).build().listen(endpoint);
    }

    private static String echoThrough(Endpoint endpoint, String text) throws Exception {
        try (TtrpcClient client = TtrpcClient.connect(endpoint)) {
            return client.blockingCall(NAME, "Echo", StringValue.of(text), StringValue.parser(), CallOptions.DEFAULT).getValue();
        }
    }

    @Test
    void unixSocketIs0600InANew0700Directory() throws Exception {
        Path socket = sockets.path("sub/dir/shim.sock");
        Endpoint endpoint = new Endpoint.UnixPath(socket);
        try (TtrpcServer ignored = echoServer(endpoint)) {
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(socket))).isEqualTo("rw-------");
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(socket.getParent()))).isEqualTo("rwx------");
            assertThat(echoThrough(endpoint, "unix")).isEqualTo("unix");
        }
        assertThat(socket).doesNotExist();
    }

    @Test
    void staleSocketFileIsReplaced() throws Exception {
        Path socket = sockets.path("stale.sock");
        try (ServerSocketChannel dead = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            dead.bind(UnixDomainSocketAddress.of(socket));
        } // closed, but the file stays: what a killed server leaves behind
        assertThat(socket).exists();
        Endpoint endpoint = new Endpoint.UnixPath(socket);
        try (TtrpcServer ignored = echoServer(endpoint)) {
            assertThat(echoThrough(endpoint, "fresh")).isEqualTo("fresh");
        }
    }

    @Test
    void liveServersSocketIsNeverStolen() throws Exception {
        Endpoint endpoint = new Endpoint.UnixPath(sockets.path("live.sock"));
        try (TtrpcServer first = echoServer(endpoint)) {
            assertThatThrownBy(() -> echoServer(endpoint)).hasMessageContaining("a server is listening on it");
            assertThat(echoThrough(endpoint, "still first")).isEqualTo("still first");
        }
    }

    @Test
    void aRegularFileInTheWayIsNotDeleted() throws Exception {
        Path file = sockets.path("precious.txt");
        Files.writeString(file, "data");
        assertThatThrownBy(() -> echoServer(new Endpoint.UnixPath(file))).hasMessageContaining("not a socket");
        assertThat(file).hasContent("data");
    }

    @Test
    void abstractUnixSocket() throws Exception {
        Endpoint endpoint = new Endpoint.AbstractUnix("katashim-test-" + UUID.randomUUID());
        try (TtrpcServer ignored = echoServer(endpoint)) {
            assertThat(echoThrough(endpoint, "abstract")).isEqualTo("abstract");
        }
    }

    @Test
    void hybridVsockHandshakeBothWays() throws Exception {
        Endpoint endpoint = new Endpoint.HybridVsock(sockets.path("kata.hvsock"), 1024);
        try (TtrpcServer ignored = echoServer(endpoint)) {
            assertThat(echoThrough(endpoint, "hybrid")).isEqualTo("hybrid");
            // the wrong port is refused by the multiplexer: the client says why
            assertThatThrownBy(() -> echoThrough(new Endpoint.HybridVsock(sockets.path("kata.hvsock"), 1025), "x"))
                    .hasMessageContaining("CONNECT 1025");
        }
    }

    @Test
    void hybridVsockClientAgainstAHandWrittenMultiplexer() throws Exception {
        // A VMM's multiplexer as Firecracker implements it: read CONNECT, answer OK <host port>, then relay.
        Path path = sockets.path("fc.hvsock");
        Endpoint backend = new Endpoint.UnixPath(sockets.path("backend.sock"));
        try (TtrpcServer ignored = echoServer(backend);
             ServerSocketChannel mux = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            mux.bind(UnixDomainSocketAddress.of(path));
            Thread relay = Thread.ofVirtual().start(() -> {
                try (SocketChannel guest = mux.accept();
                     SocketChannel agent = SocketChannel.open(UnixDomainSocketAddress.of(sockets.path("backend.sock")))) {
                    ByteBuffer line = ByteBuffer.allocate(64);
                    while (line.position() == 0 || line.get(line.position() - 1) != '\n') {
                        guest.read(line);
                    }
                    assertThat(new String(line.array(), 0, line.position(), StandardCharsets.US_ASCII)).isEqualTo("CONNECT 1024\n");
                    guest.write(ByteBuffer.wrap("OK 1073741824\n".getBytes(StandardCharsets.US_ASCII)));
                    Thread back = Thread.ofVirtual().start(() -> pump(agent, guest));
                    pump(guest, agent);
                    back.join();
                } catch (Exception ignoredToo) {
                    // the test's own assertions report failures
                }
            });
            assertThat(echoThrough(new Endpoint.HybridVsock(path, 1024), "via mux")).isEqualTo("via mux");
            relay.join(5000);
        }
    }

    private static void pump(SocketChannel from, SocketChannel to) {
        ByteBuffer buffer = ByteBuffer.allocate(8192);
        try {
            while (from.read(buffer) > 0) {
                buffer.flip();
                while (buffer.hasRemaining()) {
                    to.write(buffer);
                }
                buffer.clear();
            }
            to.shutdownOutput();
        } catch (IOException closed) {
            // one side went away; the other follows
        }
    }

    @Test
    void vsockListenerBindsOnThisHost() throws Exception {
        // This machine has an AF_VSOCK transport (a guest's) but no loopback transport, so a vsock
        // call cannot be completed here end to end; binding proves the channel wiring and address.
        assertThat(Path.of("/dev/vsock")).as("this test needs AF_VSOCK").exists();
        Endpoint endpoint = new Endpoint.Vsock(Endpoint.Vsock.ANY_CID, 40000 + (int) (Math.random() * 20000));
        try (TtrpcServer ignored = echoServer(endpoint)) {
            assertThatThrownBy(() -> echoServer(endpoint)).hasMessageContaining("cannot listen on " + endpoint);
        }
    }

    @Test
    void servesOnAnInheritedListeningSocket() throws Exception {
        // what a shim's start step hands over: a bound, listening unix socket as a bare fd
        Path path = sockets.path("inherited.sock");
        io.netty.channel.epoll.LinuxSocket socket = io.netty.channel.epoll.LinuxSocket.newSocketDomain();
        socket.bind(new io.netty.channel.unix.DomainSocketAddress(path.toString()));
        socket.listen(16);
        Endpoint endpoint = new Endpoint.UnixPath(path);
        try (TtrpcServer ignored = TtrpcServer.builder().service(new EchoService().definition()).build()
                .listenOnInherited(socket.intValue(), endpoint)) {
            assertThat(echoThrough(endpoint, "inherited")).isEqualTo("inherited");
            assertThat(echoThrough(endpoint, "again")).isEqualTo("again");
        }
        assertThat(path).doesNotExist();
    }

    @Test
    void connectingToNothingSaysWhere() {
        Endpoint endpoint = new Endpoint.UnixPath(sockets.path("nobody.sock"));
        assertThatThrownBy(() -> TtrpcClient.connect(endpoint)).hasMessageContaining("cannot connect to " + endpoint);
    }
}
