package dev.katashim.ttrpc.transport;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/** The file-system side of a listening unix socket: private directory, private file, stale files. */
final class SocketFiles {
    private SocketFiles() {
    }

    /** Creates the socket's parent directory 0700 if missing (existing directories keep their mode). */
    static void prepareDirectory(Path socket) throws IOException {
        Path dir = socket.toAbsolutePath().getParent();
        if (!Files.isDirectory(dir)) {
            Files.createDirectories(dir);
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        }
    }

    /**
     * A socket file left by a dead server is removed; one that still accepts connections is
     * somebody's live server and is left alone; anything that is not a socket is never deleted.
     */
    static void removeIfStale(Path socket) throws IOException {
        if (!Files.exists(socket, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        Object type = Files.getAttribute(socket, "unix:mode", LinkOption.NOFOLLOW_LINKS);
        boolean isSocket = type instanceof Integer mode && (mode & 0170000) == 0140000;
        if (!isSocket) {
            throw new FileAlreadyExistsException(socket.toString(), null, "exists and is not a socket");
        }
        try (SocketChannel probe = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            probe.connect(UnixDomainSocketAddress.of(socket));
            throw new FileAlreadyExistsException(socket.toString(), null, "a server is listening on it");
        } catch (IOException refused) {
            if (refused instanceof FileAlreadyExistsException) {
                throw refused;
            }
            Files.deleteIfExists(socket);
        }
    }

    static void restrictToOwner(Path socket) throws IOException {
        Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-------"));
    }
}
