package dev.katashim.shim.sys;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs a host tool (mount, umount, runc) to completion; a failure says what was being done and what it printed. */
public final class HostCommand {
    private HostCommand() {
    }

    /**
     * Runs {@code command}, waiting at most {@code timeout}.
     *
     * @param what what the command does, for the error ("mount the rootfs on /x")
     * @throws IOException "cannot {what}: {its output}" when it fails, cannot start, or times out
     */
    public static void run(List<String> command, Duration timeout, String what) throws IOException {
        Process process;
        try {
            process = new ProcessBuilder(command).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new IOException("cannot " + what + ": " + e.getMessage(), e);
        }
        try {
            // the tools used here print little; reading to the end also waits for the exit
            String output = new String(process.getInputStream().readAllBytes()).trim();
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                throw new IOException("cannot " + what + ": no answer within " + timeout.toSeconds() + " s");
            }
            if (process.exitValue() != 0) {
                throw new IOException("cannot " + what + ": " + (output.isEmpty() ? "exit status " + process.exitValue() : output));
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while trying to " + what, e);
        }
    }
}
