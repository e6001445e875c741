package dev.katashim.shim.io;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Copies one output stream (agent stdout or stderr) into its sink until the agent reports EOF.
 *
 * <p>Runs on a platform thread: a virtual thread blocked in a FileChannel write to a FIFO cannot be released,
 * because the JDK closes a channel only after signalling the native threads blocked in it, and a virtual
 * thread has none to signal (close() then waits forever).
 *
 * <p>If the sink fails (logger died, disk full) the rest of the stream is read and discarded: a process whose
 * output nobody reads would block, and then never exit. Errors from the agent end the copy with a log line.
 */
final class OutputPump {
    private static final Logger LOG = LoggerFactory.getLogger(OutputPump.class);
    static final int CHUNK = 32 * 1024;

    /** One of {@link AgentStreams#readStdout} / {@link AgentStreams#readStderr}. */
    @FunctionalInterface
    interface Source {
        byte[] read(int maxBytes) throws IOException, InterruptedException;
    }

    private final String name;
    private final Source source;
    private final ByteSink sink;
    private final CompletableFuture<Void> done = new CompletableFuture<>();
    private final Object lock = new Object();
    private Thread thread;
    private boolean running;
    private boolean stopping;

    /** {@code sink} null: nobody wants this stream, read it anyway and drop it (as /dev/null would). */
    OutputPump(String name, Source source, ByteSink sink) {
        this.name = name;
        this.source = source;
        this.sink = sink;
    }

    void start() {
        synchronized (lock) {
            // a platform thread: stop() interrupts a write blocked in the FIFO, which closes the channel and
            // signals the blocked thread; on a virtual thread that close waits forever for the blocked write
            thread = Thread.ofPlatform().daemon().name(name).unstarted(this::run);
            running = true;
            thread.start();
        }
    }

    /** Completes when the copy has ended, however it ended. */
    CompletableFuture<Void> done() {
        return done;
    }

    /** Ends the copy early: interrupts a read from the agent or a write into the sink. */
    void stop() {
        synchronized (lock) {
            stopping = true;
            if (running) {
                thread.interrupt();
            }
        }
    }

    boolean await(Duration timeout) throws InterruptedException {
        Thread t;
        synchronized (lock) {
            t = thread;
        }
        return t == null || t.join(timeout);
    }

    private boolean stopping() {
        synchronized (lock) {
            return stopping;
        }
    }

    private void run() {
        boolean delivering = sink != null;
        long copied = 0;
        try {
            while (true) {
                byte[] data = source.read(CHUNK);
                if (data.length == 0) {
                    break;
                }
                if (delivering) {
                    try {
                        sink.write(data);
                        copied += data.length;
                    } catch (IOException e) {
                        if (stopping()) {
                            break;
                        }
                        LOG.warn("{}: writing output failed after {} bytes, discarding the rest: {}",
                                name, copied, e.toString());
                        delivering = false;
                    }
                }
            }
            LOG.debug("{}: copied {} bytes, end of stream", name, copied);
        } catch (InterruptedException e) {
            LOG.debug("{}: stopped after {} bytes", name, copied);
        } catch (IOException | RuntimeException e) {
            if (stopping()) {
                LOG.debug("{}: stopped after {} bytes: {}", name, copied, e.toString());
            } else {
                LOG.warn("{}: reading from the agent failed after {} bytes, output ends here: {}",
                        name, copied, e.toString());
            }
        } finally {
            synchronized (lock) {
                running = false;
                Thread.interrupted(); // stop() may have come late; what runs on after done must not see it
            }
            done.complete(null);
        }
    }
}
