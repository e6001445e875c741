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

/** Runs one external command to completion, with stdin, captured output and a hard timeout. */
public final class ExternalCommand {

    /** How long to wait for output pipes after exit; a stray grandchild could hold them open forever. */
    private static final Duration PIPE_DRAIN = Duration.ofSeconds(5);

    private ExternalCommand() {
    }

    public static CommandResult run(List<String> command, Duration timeout) {
        return run(command, Map.of(), new byte[0], timeout);
    }

    /**
     * @param environment variables to set on top of this JVM's environment (a null value removes one)
     * @throws CommandTimedOutException when the command outlives {@code timeout}
     */
    public static CommandResult run(List<String> command, Map<String, String> environment, byte[] stdin,
                                    Duration timeout) {
        ProcessBuilder builder = new ProcessBuilder(command);
        environment.forEach((name, value) -> {
            if (value == null) {
                builder.environment().remove(name);
            } else {
                builder.environment().put(name, value);
            }
        });
        Process process;
        try {
            process = builder.start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + String.join(" ", command), e);
        }
        ByteArrayOutputStream stdout = new ByteArrayOutputStream();
        ByteArrayOutputStream stderr = new ByteArrayOutputStream();
        Thread stdinWriter = Thread.ofVirtual().start(() -> writeAndClose(stdin, process.getOutputStream()));
        Thread stdoutReader = Thread.ofVirtual().start(() -> copy(process.getInputStream(), stdout));
        Thread stderrReader = Thread.ofVirtual().start(() -> copy(process.getErrorStream(), stderr));

        boolean finished = waitFor(process, timeout);
        if (!finished) {
            Processes.killTree(process.toHandle());
            waitFor(process, PIPE_DRAIN);
        }
        join(stdinWriter);
        join(stdoutReader);
        join(stderrReader);
        CommandResult result = new CommandResult(finished ? process.exitValue() : exitValueOrMinusOne(process),
                text(stdout), text(stderr));
        if (!finished) {
            throw new CommandTimedOutException(command, timeout, result);
        }
        return result;
    }

    private static boolean waitFor(Process process, Duration timeout) {
        try {
            return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            Processes.killTree(process.toHandle());
            throw new IllegalStateException("interrupted while waiting for a command", e);
        }
    }

    private static int exitValueOrMinusOne(Process process) {
        return process.isAlive() ? -1 : process.exitValue();
    }

    private static void writeAndClose(byte[] bytes, OutputStream out) {
        try (out) {
            out.write(bytes);
        } catch (IOException ignored) {
            // The command may exit without reading its input; that is its business.
        }
    }

    private static void copy(InputStream in, ByteArrayOutputStream sink) {
        try (in) {
            byte[] buffer = new byte[8192];
            int n;
            while ((n = in.read(buffer)) >= 0) {
                synchronized (sink) {
                    sink.write(buffer, 0, n);
                }
            }
        } catch (IOException ignored) {
            // The pipe closes under us when the process is killed.
        }
    }

    private static void join(Thread thread) {
        try {
            thread.join(PIPE_DRAIN);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static String text(ByteArrayOutputStream bytes) {
        synchronized (bytes) {
            return bytes.toString(StandardCharsets.UTF_8);
        }
    }
}
