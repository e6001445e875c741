package dev.katashim.agent.guest.process;

import dev.katashim.agent.guest.sys.Libc;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * runc's {@code --console-socket}: a unix socket on which runc sends the master side of the
 * container's new pseudo-terminal as an SCM_RIGHTS descriptor.
 */
public final class ConsoleSocket implements AutoCloseable {
    private final Path path;
    private final int fd;

    private ConsoleSocket(Path path, int fd) {
        this.path = path;
        this.fd = fd;
    }

    public static ConsoleSocket listen(Path path) throws IOException {
        Files.deleteIfExists(path);
        return new ConsoleSocket(path, Libc.listenUnix(path.toString()));
    }

    public Path path() {
        return path;
    }

    /**
     * Waits for runc to connect and send the terminal, while {@code runc} is alive and within
     * {@code timeout}; returns the master descriptor.
     */
    public int receiveMaster(Process runc, Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!Libc.pollReadable(fd, 20)) {
            if (!runc.isAlive() && !Libc.pollReadable(fd, 0)) {
                throw new IOException("runc exited with status " + runc.exitValue() + " before sending the console");
            }
            if (System.nanoTime() > deadline) {
                throw new IOException("runc sent no console within " + timeout.toMillis() + " ms");
            }
        }
        int connection = Libc.accept(fd);
        try {
            return Libc.receiveFd(connection);
        } finally {
            Libc.close(connection);
        }
    }

    @Override
    public void close() throws IOException {
        Libc.close(fd);
        Files.deleteIfExists(path);
    }
}
