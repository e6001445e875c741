package dev.katashim.shim.io;

import java.io.FileInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Copies containerd's stdin FIFO into the agent (chunks of at most 32 KiB).
 *
 * <p>The FIFO is held open twice: read-write (the "keeper", as containerd's runc shim does) and read-only (the
 * reader). The keeper lets the read-only open return at once although containerd may not have opened its
 * writer yet, and it means the reader never sees EOF: a client may close and reopen (attach) its end. So the
 * copy ends only when told: {@link #stop()} (stdout ended, or teardown) or {@link #drainAndStop()} (CloseIO).
 *
 * <p>CloseIO arrives while the client may still hold its writer open (ctr calls CloseIO when its own stdin hits
 * EOF, before closing the FIFO), so waiting for EOF could wait forever. Instead {@link #drainAndStop()} forwards
 * what is in the FIFO at that moment (everything the client wrote before CloseIO: its writes have returned)
 * and then stops. FIONREAD ({@link FileInputStream#available()}) tells how much that is, so the copy never
 * blocks on an empty FIFO while draining.
 *
 * <p>Platform thread, for the reason given in {@link OutputPump}: closing the reader must release a blocked read.
 */
final class StdinPump {
    private static final Logger LOG = LoggerFactory.getLogger(StdinPump.class);

    private enum Mode { RUNNING, DRAINING, STOPPED }

    private final Path path;
    private final FileChannel keeper;
    private final FileInputStream reader;
    private final FileChannel channel;
    private final CompletableFuture<Void> stopped = new CompletableFuture<>();
    private final Object lock = new Object();
    private Mode mode = Mode.RUNNING;
    private long drainBudget;
    private boolean inRead;
    private Thread thread;

    private StdinPump(Path path, FileChannel keeper, FileInputStream reader) {
        this.path = path;
        this.keeper = keeper;
        this.reader = reader;
        this.channel = reader.getChannel();
    }

    static StdinPump open(Path fifo) throws IOException {
        FileChannel keeper = Fifos.openReadWrite(fifo, "stdin");
        try {
            return new StdinPump(fifo, keeper, new FileInputStream(fifo.toFile()));
        } catch (IOException | RuntimeException e) {
            Closeables.closeQuietly(keeper);
            throw e;
        }
    }

    void start(AgentStreams agent, String threadName) {
        synchronized (lock) {
            if (mode != Mode.RUNNING || thread != null) {
                return; // stopped before it started
            }
            thread = Thread.ofPlatform().daemon().name(threadName).unstarted(() -> run(agent));
            thread.start();
        }
    }

    /** Completes once the copy has ended and the FIFO is closed. */
    CompletableFuture<Void> stopped() {
        return stopped;
    }

    /** Stop now. A write to the agent already under way finishes; nothing more is read. */
    void stop() {
        boolean neverStarted;
        synchronized (lock) {
            mode = Mode.STOPPED;
            neverStarted = thread == null;
        }
        closeFifo(); // releases a blocked read
        if (neverStarted) {
            stopped.complete(null);
        }
    }

    /** Forward what the FIFO holds now, then stop. Returns at once; see {@link #stopped()}. */
    void drainAndStop() {
        boolean started;
        boolean wakeReader = false;
        synchronized (lock) {
            if (mode != Mode.RUNNING) {
                return;
            }
            started = thread != null;
            if (started) {
                mode = Mode.DRAINING;
                drainBudget = available();
                // Blocked on an empty FIFO: nothing more was written before CloseIO.
                wakeReader = inRead && drainBudget == 0;
            }
        }
        if (!started) {
            stop();
        } else if (wakeReader) {
            closeFifo();
        }
    }

    /** For teardown only: the agent write under way may never return. */
    void interrupt() {
        synchronized (lock) {
            if (thread != null) {
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

    private void run(AgentStreams agent) {
        ByteBuffer buffer = ByteBuffer.allocate(OutputPump.CHUNK);
        long copied = 0;
        try {
            while (true) {
                boolean draining;
                synchronized (lock) {
                    if (mode == Mode.STOPPED) {
                        break;
                    }
                    draining = mode == Mode.DRAINING;
                    int limit = OutputPump.CHUNK;
                    if (draining) {
                        int available = available();
                        if (drainBudget <= 0 || available <= 0) {
                            break;
                        }
                        // at most what is buffered: this read cannot block
                        limit = (int) Math.min(limit, Math.min(drainBudget, available));
                    }
                    buffer.clear().limit(limit);
                    inRead = true;
                }
                int n;
                try {
                    n = channel.read(buffer);
                } finally {
                    synchronized (lock) {
                        inRead = false;
                    }
                }
                if (n < 0) {
                    break;
                }
                if (draining) {
                    synchronized (lock) {
                        drainBudget -= n;
                    }
                }
                agent.writeStdin(Arrays.copyOf(buffer.array(), n));
                copied += n;
            }
            LOG.debug("stdin {}: copy ended after {} bytes", path, copied);
        } catch (ClosedChannelException e) {
            LOG.debug("stdin {}: FIFO closed after {} bytes", path, copied);
        } catch (InterruptedException e) {
            LOG.debug("stdin {}: interrupted after {} bytes", path, copied);
        } catch (IOException | RuntimeException e) {
            boolean told;
            synchronized (lock) {
                told = mode == Mode.STOPPED; // the process is gone anyway; its stdin with it
            }
            if (told) {
                LOG.debug("stdin {}: stopped after {} bytes: {}", path, copied, e.toString());
            } else {
                LOG.warn("stdin {}: copy to the agent ended after {} bytes: {}", path, copied, e.toString());
            }
        } finally {
            synchronized (lock) {
                mode = Mode.STOPPED;
            }
            closeFifo();
            stopped.complete(null);
        }
    }

    private int available() {
        try {
            return reader.available(); // FIONREAD on a FIFO
        } catch (IOException closed) {
            return 0;
        }
    }

    private void closeFifo() {
        Closeables.closeQuietly(channel); // also closes the reader
        Closeables.closeQuietly(keeper);
    }
}
