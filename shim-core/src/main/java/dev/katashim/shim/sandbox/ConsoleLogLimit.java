package dev.katashim.shim.sandbox;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Keeps a guest's console log (in the sandbox directory, on /run: host memory) from growing without
 * bound: the guest writes to it at will, so a chatty or hostile guest could fill the host. Every
 * {@link #CHECK} the file is emptied once it is over its limit (QEMU opens it for append, so it
 * goes on writing at the new end). What it held went to the shim's debug log, if that was on.
 */
final class ConsoleLogLimit implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ConsoleLogLimit.class);
    /** 50 times what a debug boot of our guest writes; also bounds each kept copy (KeptConsoleLogs). */
    static final long DEFAULT_LIMIT = 4L << 20;
    static final Duration CHECK = Duration.ofSeconds(1);

    private final String sandboxId;
    private final Path file;
    private final long limit;
    private final CountDownLatch stop = new CountDownLatch(1);
    private final Thread watcher;
    private int truncations;

    private ConsoleLogLimit(String sandboxId, Path file, long limit) {
        this.sandboxId = sandboxId;
        this.file = file;
        this.limit = limit;
        // a platform thread: a once-a-second check must not wait for a free carrier of the
        // virtual-thread scheduler (seen: a whole module's tests left it unscheduled for 30 s)
        this.watcher = Thread.ofPlatform().daemon().name("console-limit-" + sandboxId).unstarted(this::watch);
    }

    static ConsoleLogLimit start(String sandboxId, Path file, long limit) {
        ConsoleLogLimit watching = new ConsoleLogLimit(sandboxId, file, limit);
        watching.watcher.start();
        return watching;
    }

    private void watch() {
        try {
            do {
                check();
            } while (!stop.await(CHECK.toMillis(), TimeUnit.MILLISECONDS));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void check() {
        try {
            if (!Files.isRegularFile(file) || Files.size(file) <= limit) {
                return;
            }
            long size = Files.size(file);
            try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
                channel.truncate(0);
            }
            if (truncations++ < 10) {
                log.warn("sandbox {}: the guest's console log reached {} bytes (limit {}): emptied", sandboxId, size, limit);
            }
        } catch (IOException e) {
            log.debug("sandbox {}: cannot check the console log {}: {}", sandboxId, file, e.getMessage());
        }
    }

    @Override
    public void close() {
        stop.countDown();
        try {
            watcher.join(Duration.ofSeconds(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
