package dev.katashim.vmm.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/** Reads a guest's console log file. */
public final class Console {
    private Console() {
    }

    public static String read(Path log) {
        try {
            return Files.exists(log) ? new String(Files.readAllBytes(log), StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            return "";
        }
    }

    /** Waits until {@code text} appears; returns how long that took, or fails showing the console. */
    public static Duration await(Path log, String text, Duration timeout) throws InterruptedException {
        long start = System.nanoTime();
        long deadline = start + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (read(log).contains(text)) {
                return Duration.ofNanos(System.nanoTime() - start);
            }
            Thread.sleep(20);
        }
        throw new AssertionError("'" + text + "' did not appear on the console " + log + " within " + timeout + "; it shows:\n" + read(log));
    }
}
