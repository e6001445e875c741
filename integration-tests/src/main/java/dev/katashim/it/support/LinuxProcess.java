package dev.katashim.it.support;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** A snapshot of one process as /proc shows it: the facts needed to tell whose it is. */
public record LinuxProcess(long pid, String commandLine, Optional<Path> workingDirectory) {

    /** Reads /proc/&lt;pid&gt;; empty when the process is gone (or a kernel thread with no command line). */
    public static Optional<LinuxProcess> read(long pid) {
        Path proc = Path.of("/proc", Long.toString(pid));
        try {
            byte[] raw = Files.readAllBytes(proc.resolve("cmdline"));
            if (raw.length == 0) {
                return Optional.empty();
            }
            // Arguments are NUL-separated; spaces make "contains" checks read naturally.
            String commandLine = new String(raw, StandardCharsets.UTF_8).replace('\0', ' ').strip();
            return Optional.of(new LinuxProcess(pid, commandLine, workingDirectoryOf(proc)));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private static Optional<Path> workingDirectoryOf(Path proc) {
        try {
            return Optional.of(Files.readSymbolicLink(proc.resolve("cwd")));
        } catch (IOException | UnsupportedOperationException e) {
            return Optional.empty();
        }
    }
}
