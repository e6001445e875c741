package dev.katashim.it.support;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * An external command left running while a test acts beside it: its output is collected as it
 * comes (stdout and stderr together, in order), its stdin stays open until {@link #closeStdin}.
 * {@link #close} kills it and its descendants (by pid) if it is still running.
 */
public final class BackgroundCommand implements AutoCloseable {
    private final List<String> command;
    private final Process process;
    private final ByteArrayOutputStream output = new ByteArrayOutputStream();
    private final Thread reader;

    private BackgroundCommand(List<String> command, Process process) {
        this.command = command;
        this.process = process;
        this.reader = Thread.ofVirtual().name("output of " + command.getFirst()).start(this::collect);
    }

    /** @param environment set on top of this JVM's (a null value removes one) */
    public static BackgroundCommand start(List<String> command, Map<String, String> environment) {
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        environment.forEach((name, value) -> {
            if (value == null) {
                builder.environment().remove(name);
            } else {
                builder.environment().put(name, value);
            }
        });
        try {
            return new BackgroundCommand(command, builder.start());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + String.join(" ", command), e);
        }
    }

    private void collect() {
        try (InputStream in = process.getInputStream()) {
            byte[] buffer = new byte[8192];
            int n;
            while ((n = in.read(buffer)) >= 0) {
                synchronized (output) {
                    output.write(buffer, 0, n);
                    output.notifyAll();
                }
            }
        } catch (IOException ignored) {
            // the pipe closes under us when the process is killed
        } finally {
            synchronized (output) {
                output.notifyAll();
            }
        }
    }

    public long pid() {
        return process.pid();
    }

    /** Everything it printed so far. */
    public String output() {
        synchronized (output) {
            return output.toString(StandardCharsets.UTF_8);
        }
    }

    /**
     * Waits until its output so far satisfies {@code condition}; the output then.
     *
     * @throws AssertionError at the deadline or when it ended without, with what it printed
     */
    public String awaitOutput(Predicate<String> condition, Duration deadline) throws InterruptedException {
        long end = System.nanoTime() + deadline.toNanos();
        synchronized (output) {
            while (true) {
                String now = output.toString(StandardCharsets.UTF_8);
                if (condition.test(now)) {
                    return now;
                }
                long left = end - System.nanoTime();
                if (left <= 0 || (!process.isAlive() && !reader.isAlive())) {
                    throw new AssertionError((process.isAlive() ? "after " + deadline.toSeconds() + " s" : "after it exited")
                            + ", " + String.join(" ", command) + " has not printed what was awaited; its output:\n" + now);
                }
                output.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
            }
        }
    }

    public void write(String text) throws IOException {
        OutputStream stdin = process.getOutputStream();
        stdin.write(text.getBytes(StandardCharsets.UTF_8));
        stdin.flush();
    }

    public void closeStdin() throws IOException {
        process.getOutputStream().close();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /**
     * Its exit code, once it ended on its own.
     *
     * @throws AssertionError at the deadline, with its output
     */
    public int awaitExit(Duration deadline) throws InterruptedException {
        if (!process.waitFor(deadline.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new AssertionError(String.join(" ", command) + " still runs after " + deadline.toSeconds() + " s; its output:\n" + output());
        }
        reader.join(Duration.ofSeconds(5));
        return process.exitValue();
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            Processes.killTree(process.toHandle());
        }
        try {
            reader.join(Duration.ofSeconds(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public String toString() {
        return String.join(" ", command) + (process.isAlive() ? " (running)" : " (exit " + process.exitValue() + ")")
                + "\n--- output ---\n" + output();
    }
}
