package dev.katashim.shim.io;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * FIFO helpers. Java has no non-blocking open: opening a FIFO read-only blocks until a writer appears and
 * write-only until a reader appears, and such an open cannot be interrupted. So we only ever open FIFOs
 * read-write (which Linux never blocks), or while we hold a read-write handle ourselves.
 */
final class Fifos {
    private static final int S_IFMT = 0170000;
    private static final int S_IFIFO = 0010000;

    private Fifos() {}

    static boolean isFifo(Path path) throws IOException {
        return ((Integer) Files.getAttribute(path, "unix:mode") & S_IFMT) == S_IFIFO;
    }

    /** Opens an existing FIFO read-write: never blocks, never creates. {@code what} names it in errors. */
    static FileChannel openReadWrite(Path path, String what) throws IOException {
        try {
            if (!isFifo(path)) {
                throw new IOException(what + " " + path + " is not a FIFO");
            }
            return FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
        } catch (NoSuchFileException e) {
            throw new IOException(what + " FIFO " + path + " does not exist", e);
        }
    }

    /**
     * Opens a FIFO write-only without waiting for its reader: a read-write handle held meanwhile is the reader
     * the open needs. Write-only matters: once the real reader is gone, writes fail (EPIPE) instead of filling
     * the buffer and blocking forever.
     */
    static FileChannel openWriteOnly(Path path, String what) throws IOException {
        try (FileChannel keeper = openReadWrite(path, what)) {
            return FileChannel.open(path, StandardOpenOption.WRITE);
        }
    }

    /** Creates FIFOs (mode 0600) with coreutils' mkfifo: Java has no mkfifo of its own. */
    static void mkfifo(Path... paths) throws IOException {
        List<String> command = new ArrayList<>(List.of("mkfifo", "-m", "600", "--"));
        for (Path p : paths) {
            command.add(p.toString());
        }
        Process process = new ProcessBuilder(command)
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
        try (var stderr = process.getErrorStream()) {
            String error = new String(stderr.readNBytes(4096), StandardCharsets.UTF_8).strip();
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IOException("mkfifo " + List.of(paths) + " did not finish within 10s");
            }
            if (process.exitValue() != 0) {
                throw new IOException("mkfifo " + List.of(paths) + " failed (exit " + process.exitValue() + "): "
                        + error);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while creating FIFOs " + List.of(paths));
        }
    }
}
