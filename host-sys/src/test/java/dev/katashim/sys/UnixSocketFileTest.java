package dev.katashim.sys;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class UnixSocketFileTest {
    @TempDir
    Path dir;

    /** What a killed server leaves: the file of a socket nobody listens on any more. */
    private Path deadSocket(String name) throws Exception {
        Path socket = dir.resolve(name);
        try (ServerSocketChannel listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            listener.bind(UnixDomainSocketAddress.of(socket));
        }
        assertThat(socket).exists();
        return socket;
    }

    @Test
    void aStaleSocketIsReplacedAndTheNewServerAccepts() throws Exception {
        Path socket = deadSocket("stale.sock");
        assertThat(UnixSocketFile.probe(socket)).isEqualTo(UnixSocketFile.State.DEAD);
        UnixSocketFile.prepareBind(socket);
        assertThat(socket).doesNotExist();
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(socket));
            try (SocketChannel client = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
                assertThat(client.isConnected()).isTrue();
            }
        }
    }

    @Test
    void aLiveSocketIsRefusedAndKeepsServing() throws Exception {
        Path socket = dir.resolve("live.sock");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(socket));
            assertThat(UnixSocketFile.probe(socket)).isEqualTo(UnixSocketFile.State.LIVE);
            assertThatThrownBy(() -> UnixSocketFile.prepareBind(socket)).isInstanceOf(FileAlreadyExistsException.class)
                    .hasMessageContaining("a server is listening on it");
            assertThat(UnixSocketFile.removeIfDead(socket)).isFalse();
            assertThat(socket).exists();
            try (SocketChannel client = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
                assertThat(client.isConnected()).isTrue();
            }
        }
    }

    @Test
    void aServerTooBusyToAcceptIsNeverTakenForDead() throws Exception {
        Path socket = dir.resolve("busy.sock");
        List<SocketChannel> queued = new ArrayList<>();
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(socket), 1);
            // it never accepts: connect until its backlog is full (a blocking probe would now hang)
            try {
                while (queued.size() < 100) {
                    SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
                    queued.add(channel);
                    channel.configureBlocking(false);
                    channel.connect(UnixDomainSocketAddress.of(socket));
                }
            } catch (IOException full) {
                // the backlog is full
            }
            assertThat(queued).hasSizeLessThan(100);
            assertThatThrownBy(() -> UnixSocketFile.prepareBind(socket)).hasMessageContaining("cannot tell");
            assertThatThrownBy(() -> UnixSocketFile.removeIfDead(socket)).hasMessageContaining("cannot tell");
            assertThat(socket).exists();
        } finally {
            for (SocketChannel channel : queued) {
                channel.close();
            }
        }
    }

    @Test
    void aFileThatIsNotASocketIsNeverDeleted() throws Exception {
        Path file = Files.writeString(dir.resolve("precious.sock"), "data");
        assertThat(UnixSocketFile.probe(file)).isEqualTo(UnixSocketFile.State.NOT_A_SOCKET);
        assertThatThrownBy(() -> UnixSocketFile.prepareBind(file)).isInstanceOf(FileAlreadyExistsException.class)
                .hasMessageContaining("not a socket");
        assertThat(UnixSocketFile.removeIfDead(file)).isFalse();
        Path link = Files.createSymbolicLink(dir.resolve("link.sock"), deadSocket("target.sock"));
        assertThat(UnixSocketFile.probe(link)).as("a link is not followed").isEqualTo(UnixSocketFile.State.NOT_A_SOCKET);
        assertThat(file).hasContent("data");
    }

    @Test
    void removeIfDeadRemovesOnlyADeadSocket() throws Exception {
        Path socket = deadSocket("dead.sock");
        assertThat(UnixSocketFile.removeIfDead(socket)).isTrue();
        assertThat(socket).doesNotExist();
        assertThat(UnixSocketFile.probe(socket)).isEqualTo(UnixSocketFile.State.ABSENT);
        assertThat(UnixSocketFile.removeIfDead(socket)).isFalse();
        UnixSocketFile.prepareBind(socket); // nothing there: nothing to do
    }

    @Test
    void theDirectoryIsPrivateWhenCreatedAndTheSocketTheOwnersOnly() throws Exception {
        Path socket = dir.resolve("a/b/s.sock");
        UnixSocketFile.createPrivateDirectory(socket);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(socket.getParent()))).isEqualTo("rwx------");
        Path shared = Files.createDirectory(dir.resolve("shared"),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rwxr-xr-x"));
        UnixSocketFile.createPrivateDirectory(shared.resolve("s.sock"));
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(shared))).isEqualTo("rwxr-xr-x");

        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(socket));
            UnixSocketFile.restrictToOwner(socket);
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(socket))).isEqualTo("rw-------");
        }
    }
}
