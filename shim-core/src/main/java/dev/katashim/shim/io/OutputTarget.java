package dev.katashim.shim.io;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Where a process's output goes, decided (as upstream) by the scheme of the stdout string alone:
 * none or {@code fifo} → FIFOs, {@code binary} → a logger process, {@code file} → a log file.
 */
sealed interface OutputTarget {

    /** containerd's FIFOs; a null path means that stream is not wanted (its output is discarded). */
    record Fifos(Path stdout, Path stderr) implements OutputTarget {}

    /** A logger executable and its arguments (from the URI query). */
    record BinaryLogger(Path executable, List<String> args) implements OutputTarget {
        public BinaryLogger {
            args = List.copyOf(args);
        }
    }

    /** One log file for stdout and, when {@code withStderr}, stderr too. */
    record LogFile(Path file, boolean withStderr) implements OutputTarget {}

    static OutputTarget of(StdioSpec spec) {
        StdioUri uri = StdioUri.parse(spec.stdout(), "stdout");
        return switch (uri.scheme()) {
            case "", "fifo" -> new Fifos(
                    fifoPath(spec.stdout(), "stdout"),
                    spec.terminal() ? null : fifoPath(spec.stderr(), "stderr")); // a pty merges stderr
            case "binary" -> new BinaryLogger(absolutePath(uri, spec.stdout(), "binary logger"), loggerArgs(uri));
            case "file" -> new LogFile(absolutePath(uri, spec.stdout(), "log file"),
                    !spec.terminal() && !spec.stderr().isEmpty());
            default -> throw new IllegalArgumentException("unknown STDIO scheme " + uri.scheme());
        };
    }

    /**
     * A FIFO path from a stdio string: "" → null (no stream), a plain path as is, {@code fifo://} by its path.
     * (Upstream would open a {@code fifo://} string verbatim and fail; containerd only ever sends plain paths.)
     */
    static Path fifoPath(String raw, String what) {
        if (raw.isEmpty()) {
            return null;
        }
        StdioUri uri = StdioUri.parse(raw, what);
        return switch (uri.scheme()) {
            case "" -> path(raw, raw, what);
            case "fifo" -> absolutePath(uri, raw, what + " FIFO");
            default -> throw new IllegalArgumentException(what + " must be a FIFO path, got " + raw);
        };
    }

    /**
     * containerd's rule (runtime/v2 logging, copied by the Go shim): each query key becomes an argument followed
     * by its first value, which is always present (possibly ""). Go iterates a map, so its order is random; we
     * keep the order of first appearance, which is one of those orders.
     */
    private static List<String> loggerArgs(StdioUri uri) {
        Set<String> seen = new LinkedHashSet<>();
        List<String> args = new ArrayList<>();
        for (StdioUri.Pair pair : uri.query()) {
            if (seen.add(pair.key())) {
                args.add(pair.key());
                args.add(pair.value());
            }
        }
        return args;
    }

    private static Path absolutePath(StdioUri uri, String raw, String what) {
        if (uri.path().isEmpty() || !uri.path().startsWith("/")) {
            throw new IllegalArgumentException(what + " URI needs an absolute path: " + raw);
        }
        return path(uri.path(), raw, what);
    }

    private static Path path(String path, String raw, String what) {
        try {
            return Path.of(path);
        } catch (java.nio.file.InvalidPathException e) {
            throw new IllegalArgumentException(what + " " + dev.katashim.shim.oci.HostPath.quoted(raw) + " is not a valid path: " + e.getReason());
        }
    }
}
