package dev.katashim.shim.io;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Arrays;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@link AgentStreams} over a real local process, standing in for the Kata agent serving a guest process:
 * writeStdin writes to its stdin pipe, readStdout/readStderr return what it printed (at most {@code max}
 * bytes, empty at EOF). Like the agent, output is buffered on the serving side and a pending read can be
 * cancelled (interrupt), and {@link #disconnect()} is the agent going away: pending and later calls fail.
 */
final class LocalProcessAgentStreams implements AgentStreams, AutoCloseable {
    private final Process process;
    private final OutputStream stdin;
    private final Relay stdout;
    private final Relay stderr;
    private final AtomicInteger stderrReads = new AtomicInteger();
    private volatile boolean disconnected;

    private LocalProcessAgentStreams(Process process) {
        this.process = process;
        this.stdin = process.getOutputStream();
        this.stdout = new Relay("local-agent-stdout-" + process.pid(), process.getInputStream());
        this.stderr = new Relay("local-agent-stderr-" + process.pid(), process.getErrorStream());
    }

    static LocalProcessAgentStreams start(String... command) throws IOException {
        return new LocalProcessAgentStreams(new ProcessBuilder(command).start());
    }

    Process process() {
        return process;
    }

    int stderrReads() {
        return stderrReads.get();
    }

    @Override
    public long writeStdin(byte[] data) throws IOException {
        checkConnected();
        stdin.write(data);
        stdin.flush();
        return data.length;
    }

    @Override
    public void closeStdin() throws IOException {
        checkConnected();
        stdin.close();
    }

    @Override
    public byte[] readStdout(int maxBytes) throws IOException, InterruptedException {
        return stdout.read(maxBytes);
    }

    @Override
    public byte[] readStderr(int maxBytes) throws IOException, InterruptedException {
        stderrReads.incrementAndGet();
        return stderr.read(maxBytes);
    }

    /** The agent connection is gone: every pending and later call fails. */
    void disconnect() {
        disconnected = true;
        stdout.disconnect();
        stderr.disconnect();
    }

    private void checkConnected() throws IOException {
        if (disconnected) {
            throw new IOException("agent connection closed");
        }
    }

    /** Kills the process and waits until it and the relay threads are gone. */
    @Override
    public void close() throws Exception {
        process.destroyForcibly();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            throw new IllegalStateException("process " + process.pid() + " did not die");
        }
        try {
            stdin.close();
        } catch (IOException ignored) {
            // the pipe is gone with the process
        }
        stdout.join();
        stderr.join();
    }

    /** Reads one process stream on its own thread into a queue, as the agent buffers guest output. */
    private static final class Relay {
        private static final byte[] EOF = new byte[0];
        private static final Object DISCONNECTED = new Object();

        private final LinkedBlockingQueue<Object> chunks = new LinkedBlockingQueue<>();
        private final Thread thread;
        private byte[] rest;
        private boolean eof;
        private volatile boolean disconnected;

        Relay(String name, InputStream in) {
            thread = Thread.ofPlatform().daemon().name(name).start(() -> {
                byte[] buffer = new byte[64 * 1024];
                try (in) {
                    int n;
                    while ((n = in.read(buffer)) > 0) {
                        chunks.add(Arrays.copyOf(buffer, n));
                    }
                    chunks.add(EOF);
                } catch (IOException e) {
                    chunks.add(e);
                }
            });
        }

        synchronized byte[] read(int max) throws IOException, InterruptedException {
            if (disconnected) {
                throw new IOException("agent connection closed");
            }
            if (rest == null) {
                if (eof) {
                    return EOF;
                }
                Object item = chunks.take();
                if (item == DISCONNECTED) {
                    throw new IOException("agent connection closed");
                }
                if (item instanceof IOException e) {
                    throw new IOException("reading the process output failed", e);
                }
                rest = (byte[]) item;
                if (rest.length == 0) {
                    eof = true;
                    rest = null;
                    return EOF;
                }
            }
            byte[] chunk = Arrays.copyOf(rest, Math.min(max, rest.length));
            rest = chunk.length == rest.length ? null : Arrays.copyOfRange(rest, chunk.length, rest.length);
            return chunk;
        }

        void disconnect() {
            disconnected = true;
            chunks.add(DISCONNECTED);
        }

        void join() throws InterruptedException {
            if (!thread.join(java.time.Duration.ofSeconds(10))) {
                throw new IllegalStateException(thread.getName() + " still reading");
            }
        }
    }
}
