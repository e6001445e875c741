package dev.katashim.it.shim;

import com.google.protobuf.Empty;
import dev.katashim.it.peers.TaskApiClient;
import dev.katashim.it.support.BusyboxRootfs;
import dev.katashim.it.support.CommandResult;
import dev.katashim.it.support.ExternalCommand;
import dev.katashim.it.support.TempDirs;
import dev.katashim.protocols.containerd.task.v2.CreateTaskRequest;
import dev.katashim.protocols.containerd.task.v2.CreateTaskResponse;
import dev.katashim.protocols.containerd.task.v2.DeleteRequest;
import dev.katashim.protocols.containerd.task.v2.DeleteResponse;
import dev.katashim.protocols.containerd.task.v2.KillRequest;
import dev.katashim.protocols.containerd.task.v2.ShutdownRequest;
import dev.katashim.protocols.containerd.task.v2.StartRequest;
import dev.katashim.protocols.containerd.task.v2.StartResponse;
import dev.katashim.protocols.containerd.task.v2.WaitRequest;
import dev.katashim.protocols.containerd.task.v2.WaitResponse;
import dev.katashim.protocols.containerd.types.task.Status;
import dev.katashim.ttrpc.status.TtrpcException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Who can reach a running sandbox's sockets (no-VM sandbox, started as containerd starts the shim):
 * the shim's Task socket, the management socket and the host agent's socket are root's alone, in
 * root's 0700 sandbox directory; another user (nobody, via setpriv) cannot connect to any of them.
 */
class SocketAccessTest {
    private static final String NAMESPACE = "kt-sock";
    /** Generous: both cores may be busy with other suites. */
    private static final Duration CLIENT_DEADLINE = Duration.ofSeconds(30);
    private static Path dir;
    private static String sandboxId;
    private static Path shimSocket;
    private static TaskApiClient shim;

    @BeforeAll
    static void startASandbox() throws Exception {
        dir = TempDirs.createShort("kts");
        Path rootfs = BusyboxRootfs.create(dir.resolve("rootfs")).path();
        sandboxId = "sock-" + UUID.randomUUID().toString().substring(0, 8);
        Path bundle = OciBundles.create(dir.resolve(sandboxId), rootfs, Map.of(), "/bin/sleep", "300");
        String address = ShimProcessUnderTest.start(bundle, NAMESPACE, dir.resolve("c.sock"), sandboxId,
                Map.of("KATA_SHIM_SANDBOX_ROOT", dir.resolve("sbs").toString(), "KATA_CONF_FILE", KataConfigs.noVm(dir).toString()));
        shimSocket = Path.of(address.substring("unix://".length()));
        shim = ShimProcessUnderTest.connect(address, NAMESPACE);
        shim.call("Create", CreateTaskRequest.newBuilder().setId(sandboxId).setBundle(bundle.toString()).build(), CreateTaskResponse.parser());
        shim.call("Start", StartRequest.newBuilder().setId(sandboxId).build(), StartResponse.parser());
    }

    @AfterAll
    static void stop() throws Exception {
        try {
            if (shim != null) {
                shim.call("Kill", KillRequest.newBuilder().setId(sandboxId).setSignal(9).build(), Empty.parser());
                shim.call("Wait", WaitRequest.newBuilder().setId(sandboxId).build(), WaitResponse.parser());
                shim.call("Delete", DeleteRequest.newBuilder().setId(sandboxId).build(), DeleteResponse.parser());
                try {
                    shim.call("Shutdown", ShutdownRequest.newBuilder().setId(sandboxId).build(), Empty.parser());
                } catch (TtrpcException closed) {
                    // the shim may close the connection as it exits
                }
                shim.close();
                assertThat(dir.resolve("sbs").resolve(sandboxId)).doesNotExist();
            }
        } finally {
            TempDirs.deleteRecursively(dir);
        }
    }

    private static String mode(Path path) throws Exception {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(path, LinkOption.NOFOLLOW_LINKS));
    }

    private static String owner(Path path) throws Exception {
        return Files.getOwner(path, LinkOption.NOFOLLOW_LINKS).getName();
    }

    /** A connect(2) by user nobody: "connected", or the error. */
    private static String connectAsNobody(Path socket) throws Exception {
        CommandResult result = ExternalCommand.run(List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "perl", "-e",
                "use Socket; socket(my $s, PF_UNIX, SOCK_STREAM, 0) or die; "
                        + "print connect($s, pack_sockaddr_un($ARGV[0])) ? \"connected\\n\" : \"$!\\n\";", socket.toString()), CLIENT_DEADLINE);
        return result.stdout().strip();
    }

    @Test
    void theShimsTaskSocketIsRootsAlone() throws Exception {
        assertThat(shim.state(sandboxId).getStatus()).isEqualTo(Status.RUNNING);
        assertThat(mode(shimSocket)).isEqualTo("rw-------");
        assertThat(owner(shimSocket)).isEqualTo("root");
        assertThat(mode(shimSocket.getParent()).charAt(7)).as("others cannot write containerd's socket directory").isEqualTo('-');
        assertThat(connectAsNobody(shimSocket)).isEqualTo("Permission denied");
    }

    @Test
    void theSandboxDirectoryAndEverySocketInItAreRootsAlone() throws Exception {
        Path sandbox = dir.resolve("sbs").resolve(sandboxId);
        assertThat(mode(sandbox)).isEqualTo("rwx------");
        assertThat(owner(sandbox)).isEqualTo("root");
        List<Path> sockets;
        try (Stream<Path> walk = Files.walk(sandbox)) {
            sockets = walk.filter(p -> isSocket(p)).toList();
        }
        assertThat(sockets).as("the management socket and the host agent's").contains(sandbox.resolve("shim-monitor.sock"), sandbox.resolve("agent.sock"));
        for (Path socket : sockets) {
            assertThat(mode(socket)).as(socket.toString()).isEqualTo("rw-------");
            assertThat(owner(socket)).as(socket.toString()).isEqualTo("root");
            assertThat(connectAsNobody(socket)).as(socket.toString()).isEqualTo("Permission denied");
        }
    }

    private static boolean isSocket(Path path) {
        try {
            int mode = (Integer) Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS);
            return (mode & 0170000) == 0140000;
        } catch (Exception e) {
            return false;
        }
    }
}
