package dev.katashim.shim.sandbox;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Follows the guest's console (the file QEMU writes it to) into the shim's log at debug level,
 * one log line per console line, as upstream's {@code vmconsole} lines: with debug on,
 * containerd's log shows the guest kernel, {@code /init} and the agent. Polls the file (QEMU only
 * ever appends); {@link #close} reads what is left, so the last words of a guest that died are
 * logged before its sandbox directory goes.
 */
final class GuestConsole implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(GuestConsole.class);
    private static final Duration POLL = Duration.ofMillis(200);
    private static final int MAX_LINE = 4096;

    private final String sandboxId;
    private final Path file;
    private final ByteArrayOutputStream partial = new ByteArrayOutputStream();
    private final Thread follower;
    /** Counted down by {@link #close}: never an interrupt, which would close the file channel under a read. */
    private final CountDownLatch stop = new CountDownLatch(1);
    private long offset;

    private GuestConsole(String sandboxId, Path file) {
        this.sandboxId = sandboxId;
        this.file = file;
        this.follower = Thread.ofVirtual().name("console-" + sandboxId).unstarted(this::follow);
    }

    /** Starts following {@code file}; it need not exist yet. */
    static GuestConsole follow(String sandboxId, Path file) {
        GuestConsole console = new GuestConsole(sandboxId, file);
        console.follower.start();
        return console;
    }

    private void follow() {
        try {
            do {
                readNew();
            } while (!stop.await(POLL.toMillis(), TimeUnit.MILLISECONDS));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        readNew();
        if (partial.size() > 0) {
            emit(partial.toByteArray());
        }
    }

    private void readNew() {
        if (!Files.exists(file)) {
            return;
        }
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            if (channel.size() < offset) {
                offset = 0; // emptied by ConsoleLogLimit: the guest writes on from the start
            }
            ByteBuffer buffer = ByteBuffer.allocate(16384);
            int n;
            while ((n = channel.read(buffer, offset)) > 0) {
                offset += n;
                buffer.flip();
                while (buffer.hasRemaining()) {
                    byte b = buffer.get();
                    if (b == '\n') {
                        emit(partial.toByteArray());
                        partial.reset();
                    } else if (partial.size() < MAX_LINE) {
                        partial.write(b);
                    }
                }
                buffer.clear();
            }
        } catch (IOException e) {
            log.debug("sandbox {}: cannot read the console {}: {}", sandboxId, file, e.getMessage());
        }
    }

    private void emit(byte[] line) {
        String text = new String(line, StandardCharsets.UTF_8).replace("\r", "").stripTrailing();
        if (!text.isEmpty()) {
            log.debug("sandbox {} console: {}", sandboxId, text);
        }
    }

    /** Reads what the guest wrote last, then stops. */
    @Override
    public void close() {
        stop.countDown();
        try {
            follower.join(Duration.ofSeconds(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
