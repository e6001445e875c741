package dev.katashim.sys;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** Runs a host tool (mount, umount, modprobe) to completion; a failure says what was being done and what the tool printed. */
public final class HostCommand {
    /** How long its output may stay open once it exited or was killed (a grandchild can hold the pipe). */
    private static final Duration OUTPUT_GRACE = Duration.ofSeconds(2);

    private HostCommand() {
    }

    /**
     * Runs {@code command} with stdin from /dev/null, waiting at most {@code timeout}, and returns
     * what it printed (stdout and stderr together, stripped).
     *
     * @param what what the command does, for the error ("mount the rootfs on /x")
     * @throws IOException "cannot {what}: {its output}" when it cannot start or exits non-zero;
     *                     "cannot {what}: no answer within {timeout}" when it outlives the timeout (it is killed);
     *                     "interrupted while trying to {what}" when this thread is interrupted (it is killed,
     *                     the thread stays interrupted)
     */
    public static String run(List<String> command, Duration timeout, String what) throws IOException {
        Process process;
        try {
            process = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        } catch (IOException e) {
            throw new IOException("cannot " + what + ": " + e.getMessage(), e);
        }
        // read on another thread: a tool that hangs with its output open must not outlive the timeout
        FutureTask<String> output = new FutureTask<>(
                () -> new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip());
        Thread.ofVirtual().name("host-command-output").start(output);
        try {
            if (!process.waitFor(timeout.toNanos(), TimeUnit.NANOSECONDS)) {
                process.destroyForcibly();
                throw new IOException("cannot " + what + ": no answer within " + readable(timeout));
            }
            String printed = printed(output);
            if (process.exitValue() != 0) {
                throw new IOException("cannot " + what + ": " + (printed.isEmpty() ? "exit status " + process.exitValue() : printed));
            }
            return printed;
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while trying to " + what, e);
        }
    }

    private static String printed(FutureTask<String> output) throws InterruptedException {
        try {
            return output.get(OUTPUT_GRACE.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException e) {
            return ""; // unreadable, or held open by a grandchild: the exit status still tells
        }
    }

    private static String readable(Duration timeout) {
        return timeout.toMillis() % 1000 == 0 ? timeout.toSeconds() + " s" : timeout.toMillis() + " ms";
    }
}
