package dev.katashim.sys;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Reads processes' {@code /proc/<pid>} files ({@code pid} is a number or "self"). No reader
 * throws: a file it cannot read (the process exited, or it is not ours to see) gives an empty
 * result, so that a metric built from it is left out and the rest goes on.
 */
public final class ProcFs {
    /** This machine's /proc. */
    public static final ProcFs HOST = new ProcFs(Path.of("/proc"));

    private final Path root;
    private volatile long bootTime = -1;

    /** A reader of the proc filesystem mounted at {@code root}. */
    public ProcFs(Path root) {
        this.root = root;
    }

    /** Where this reader's /proc is. */
    public Path root() {
        return root;
    }

    /** A snapshot of process {@code pid}, or null when it does not exist (any more). */
    public ProcessSnapshot read(String pid) {
        Path dir = root.resolve(pid);
        ProcessStat stat;
        try {
            stat = ProcessStat.parse(Files.readString(dir.resolve("stat")));
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException | RuntimeException e) {
            stat = null;
        }
        String limits = text(dir.resolve("limits"));
        return new ProcessSnapshot(stat, status(pid), io(pid), openFds(pid),
                SoftLimits.parse(limits, SoftLimits.MAX_OPEN_FILES), SoftLimits.parse(limits, SoftLimits.MAX_ADDRESS_SPACE),
                netDev(pid));
    }

    /** {@code /proc/<pid>/stat}, empty when unreadable. */
    public Optional<ProcessStat> stat(String pid) {
        try {
            return Optional.of(ProcessStat.parse(Files.readString(root.resolve(pid).resolve("stat"))));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** {@code /proc/<pid>/status}: its numeric keys, sizes in bytes. */
    public Map<String, Long> status(String pid) {
        return KeyValues.parse(text(root.resolve(pid).resolve("status")), true);
    }

    /** {@code /proc/<pid>/io}: its byte and call counters (empty when not permitted). */
    public Map<String, Long> io(String pid) {
        return KeyValues.parse(text(root.resolve(pid).resolve("io")), false);
    }

    /** The number of entries of {@code /proc/<pid>/fd}, or -1 when unreadable. */
    public int openFds(String pid) {
        int count = 0;
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(root.resolve(pid).resolve("fd"))) {
            for (Path ignored : fds) {
                count++;
            }
            return count;
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** The soft limit {@code name} of {@code /proc/<pid>/limits} ({@link SoftLimits#MAX_OPEN_FILES}, ...). */
    public OptionalLong softLimit(String pid, String name) {
        return SoftLimits.parse(text(root.resolve(pid).resolve("limits")), name);
    }

    /** The interfaces of {@code /proc/<pid>/net/dev}: the network namespace {@code pid} is in. */
    public List<NetDevLine> netDev(String pid) {
        try {
            return NetDevLine.parse(text(root.resolve(pid).resolve("net").resolve("dev")));
        } catch (RuntimeException e) {
            return List.of();
        }
    }

    /**
     * The network namespace {@code pid} is in, as {@code /proc/<pid>/ns/net} names it
     * ({@code net:[4026531840]}): two processes with the same name see the same interfaces.
     * Empty when the process is gone or not ours to look at.
     */
    public Optional<String> networkNamespace(String pid) {
        try {
            return Optional.of(Files.readSymbolicLink(root.resolve(pid).resolve("ns").resolve("net")).toString());
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** Thread {@code tid} of process {@code pid}: its run and run-queue wait times; empty when it is gone. */
    public Optional<ThreadSchedStat> schedStat(String pid, String tid) {
        return ThreadSchedStat.parse(text(root.resolve(pid).resolve("task").resolve(tid).resolve("schedstat")));
    }

    /** The start of process {@code pid} in clock ticks after boot, or -1 (it tells a pid's reuse apart). */
    public long startTicks(String pid) {
        return stat(pid).map(ProcessStat::startTicks).orElse(-1L);
    }

    /**
     * Boot time in seconds since the epoch ({@code btime} of /proc/stat), read once: a process
     * started {@code bootTime() + startTicks / CLOCK_TICKS_PER_SECOND}.
     *
     * @throws IllegalStateException when /proc/stat has no btime
     */
    public long bootTime() {
        long known = bootTime;
        if (known >= 0) {
            return known;
        }
        for (String line : text(root.resolve("stat")).split("\n")) {
            if (line.startsWith("btime ")) {
                try {
                    bootTime = Long.parseLong(line.substring(6).trim());
                    return bootTime;
                } catch (NumberFormatException e) {
                    break;
                }
            }
        }
        throw new IllegalStateException("no btime in " + root.resolve("stat"));
    }

    /** A file's text, or "" when it cannot be read. */
    static String text(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException | RuntimeException e) {
            return "";
        }
    }
}
