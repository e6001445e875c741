package dev.katashim.sys;

import java.io.IOException;
import java.net.ConnectException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * The file of a unix socket: what a dead server left (a socket nobody accepts on) is removed, a
 * live server's socket and any file that is not a socket are never touched.
 *
 * <pre>{@code
 * UnixSocketFile.createPrivateDirectory(path);   // 0700, if missing
 * UnixSocketFile.prepareBind(path);              // stale file gone; live socket or other file: refused
 * bind(path);
 * UnixSocketFile.restrictToOwner(path);          // 0600
 * }</pre>
 */
public final class UnixSocketFile {
    private static final int S_IFMT = 0170000;
    private static final int S_IFSOCK = 0140000;

    /** What is at a socket's path. */
    public enum State {
        /** no file */
        ABSENT,
        /** a socket file nobody accepts on: left by a dead server */
        DEAD,
        /** a socket a server accepts on */
        LIVE,
        /** a file that is not a socket */
        NOT_A_SOCKET
    }

    private UnixSocketFile() {
    }

    /**
     * Makes {@code socket} free for a bind: a stale socket file is removed.
     *
     * @throws FileAlreadyExistsException when a server accepts on it or it is not a socket
     * @throws IOException                when whether it is live cannot be told (the probe failed otherwise)
     */
    public static void prepareBind(Path socket) throws IOException {
        switch (probe(socket)) {
            case ABSENT -> { }
            case DEAD -> Files.deleteIfExists(socket);
            case LIVE -> throw new FileAlreadyExistsException(socket.toString(), null,
                    "a server is listening on it (already serving); a live socket is never replaced");
            case NOT_A_SOCKET -> throw new FileAlreadyExistsException(socket.toString(), null,
                    "exists and is not a socket; not replacing it");
        }
    }

    /**
     * Removes {@code socket} if it is a socket file nobody accepts on; true if it did. A live
     * socket, a missing file and a file that is not a socket are left as they are (false).
     *
     * @throws IOException when whether it is live cannot be told
     */
    public static boolean removeIfDead(Path socket) throws IOException {
        return probe(socket) == State.DEAD && Files.deleteIfExists(socket);
    }

    /**
     * What is at {@code socket} now. The probe is a non-blocking connect, so it never waits on a
     * busy server: only "connection refused" proves nobody listens.
     *
     * @throws IOException when the connect fails in another way (permission denied, ...)
     */
    public static State probe(Path socket) throws IOException {
        int mode;
        try {
            mode = (Integer) Files.getAttribute(socket, "unix:mode", LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            return State.ABSENT;
        }
        if ((mode & S_IFMT) != S_IFSOCK) {
            return State.NOT_A_SOCKET;
        }
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            channel.configureBlocking(false);
            channel.connect(UnixDomainSocketAddress.of(socket)); // connected, or queued: someone listens
            return State.LIVE;
        } catch (ConnectException refused) {
            return State.DEAD;
        } catch (IOException e) {
            if (!Files.exists(socket, LinkOption.NOFOLLOW_LINKS)) {
                return State.ABSENT; // removed meanwhile
            }
            throw new IOException("cannot tell whether anything serves on " + socket + ": " + e.getMessage(), e);
        }
    }

    /** Creates {@code socket}'s parent directory, 0700, if it is missing (an existing one keeps its mode). */
    public static void createPrivateDirectory(Path socket) throws IOException {
        Path dir = socket.toAbsolutePath().getParent();
        if (!Files.isDirectory(dir)) {
            Files.createDirectories(dir);
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        }
    }

    /** Lets only the owner connect: the socket file becomes 0600. */
    public static void restrictToOwner(Path socket) throws IOException {
        Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-------"));
    }
}
