package dev.katashim.shim.io;

import java.io.ByteArrayOutputStream;
import java.io.FileInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/** containerd's end of an output FIFO: opens it read-only and reads until EOF on its own thread. */
final class FifoReader implements AutoCloseable {
    private final Path fifo;
    private final ByteArrayOutputStream data = new ByteArrayOutputStream();
    private final CompletableFuture<byte[]> all = new CompletableFuture<>();
    private final Object readLock = new Object(); // held across each read(): see delivered()
    private final FileInputStream in;
    private final Thread thread;

    private FifoReader(Path fifo) throws IOException {
        this.fifo = fifo;
        this.in = new FileInputStream(fifo.toFile());
        this.thread = Thread.ofPlatform().daemon().name("fifo-reader-" + fifo.getFileName()).start(this::run);
    }

    /**
     * Opens read-only now, as containerd does before Start: the shim must already hold its end, or this waits.
     * (Opened later, output written and closed in between would be lost, with containerd as with us.)
     */
    static FifoReader open(Path fifo) throws IOException {
        return new FifoReader(fifo);
    }

    private void run() {
        byte[] buffer = new byte[16 * 1024];
        try (FileInputStream stream = in) {
            while (true) {
                synchronized (readLock) {
                    int n = stream.read(buffer);
                    if (n < 0) {
                        break;
                    }
                    synchronized (data) {
                        data.write(buffer, 0, n);
                    }
                }
            }
            all.complete(bytes());
        } catch (IOException | RuntimeException e) {
            all.completeExceptionally(e);
        }
    }

    /** Everything, once the last writer has closed the FIFO. */
    CompletableFuture<byte[]> all() {
        return all;
    }

    byte[] bytes() {
        synchronized (data) {
            return data.toByteArray();
        }
    }

    String text() {
        return new String(bytes(), StandardCharsets.UTF_8);
    }

    /**
     * Bytes written into the FIFO so far: read by us, plus still in the pipe buffer. Waits for a read in
     * progress, so call it only when the writers are done or closed (else it waits for the next write).
     */
    long delivered() {
        synchronized (readLock) {
            long buffered = 0;
            try {
                buffered = in.available();
            } catch (IOException closed) {
                // EOF seen and closed: everything was read
            }
            synchronized (data) {
                return data.size() + buffered;
            }
        }
    }

    /** Joins the reader, which ends at EOF once the shim has closed its end. */
    @Override
    public void close() throws Exception {
        if (!thread.join(Duration.ofSeconds(5))) {
            throw new IllegalStateException("reader of " + fifo + " still blocked: a writer is still open");
        }
    }
}
