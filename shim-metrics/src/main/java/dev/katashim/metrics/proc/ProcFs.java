package dev.katashim.metrics.proc;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

/**
 * Reads processes' /proc files. Every reader tolerates a file it cannot read (the process exited,
 * or the file is not ours to see): that part of the snapshot is left empty.
 */
public final class ProcFs {
    public static final ProcFs HOST = new ProcFs(Path.of("/proc"));

    private final Path root;
    private volatile long bootTime = -1;

    public ProcFs(Path root) {
        this.root = root;
    }

    public Path root() {
        return root;
    }

    /** A snapshot of process {@code pid} ("self" or a number), or null when it does not exist (any more). */
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
        Map<String, Long> status = keyValues(dir.resolve("status"), true);
        Map<String, Long> io = keyValues(dir.resolve("io"), false);
        return new ProcessSnapshot(stat, status, io, countFds(dir.resolve("fd")),
                softLimit(dir.resolve("limits"), "Max open files"), softLimit(dir.resolve("limits"), "Max address space"),
                netdev(dir.resolve("net").resolve("dev")));
    }

    /** The start of process {@code pid} in clock ticks after boot, or -1 (it tells a pid's reuse apart). */
    public long startTicks(String pid) {
        try {
            return ProcessStat.parse(Files.readString(root.resolve(pid).resolve("stat"))).startTicks();
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** Boot time in seconds since the epoch ({@code btime} of /proc/stat); read once. */
    public long bootTime() {
        long known = bootTime;
        if (known >= 0) {
            return known;
        }
        try {
            for (String line : Files.readAllLines(root.resolve("stat"))) {
                if (line.startsWith("btime ")) {
                    bootTime = Long.parseLong(line.substring(6).trim());
                    return bootTime;
                }
            }
        } catch (IOException | RuntimeException e) {
            // below
        }
        throw new IllegalStateException("no btime in " + root.resolve("stat"));
    }

    /** "Key: value [kB]" lines; kB values in bytes. Lines that carry no single number are skipped. */
    static Map<String, Long> keyValues(Path file, boolean kilobytesToBytes) {
        String text;
        try {
            text = Files.readString(file);
        } catch (IOException | RuntimeException e) {
            return Map.of();
        }
        return parseKeyValues(text, kilobytesToBytes);
    }

    public static Map<String, Long> parseKeyValues(String text, boolean kilobytesToBytes) {
        Map<String, Long> values = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            int colon = line.indexOf(':');
            if (colon <= 0) {
                continue;
            }
            String[] parts = line.substring(colon + 1).trim().split("\\s+");
            if (parts.length == 0 || parts.length > 2 || parts.length == 2 && !parts[1].equals("kB")) {
                continue;
            }
            try {
                long value = Long.parseLong(parts[0]);
                values.put(line.substring(0, colon).trim(), kilobytesToBytes && parts.length == 2 ? value * 1024 : value);
            } catch (NumberFormatException e) {
                // not a number ("State: S (sleeping)")
            }
        }
        return Collections.unmodifiableMap(values);
    }

    static int countFds(Path fdDir) {
        int count = 0;
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(fdDir)) {
            for (Path ignored : fds) {
                count++;
            }
            return count;
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** The soft limit {@code name} of a limits file; {@link ProcessSnapshot#UNLIMITED} for "unlimited". */
    static OptionalLong softLimit(Path limits, String name) {
        try {
            for (String line : Files.readAllLines(limits)) {
                if (line.startsWith(name + " ")) {
                    String soft = line.substring(name.length()).trim().split("\\s+")[0];
                    return OptionalLong.of(soft.equals("unlimited") ? ProcessSnapshot.UNLIMITED : Long.parseLong(soft));
                }
            }
        } catch (IOException | RuntimeException e) {
            // below
        }
        return OptionalLong.empty();
    }

    static List<NetDevLine> netdev(Path file) {
        try {
            return parseNetDev(Files.readString(file));
        } catch (IOException | RuntimeException e) {
            return List.of();
        }
    }

    /** The interface lines of a net/dev file (after its two header lines). */
    public static List<NetDevLine> parseNetDev(String text) {
        List<NetDevLine> lines = new ArrayList<>();
        for (String line : text.split("\n")) {
            int colon = line.indexOf(':');
            if (colon <= 0 || line.startsWith("Inter-") || line.contains("|")) {
                continue;
            }
            String[] values = line.substring(colon + 1).trim().split("\\s+");
            if (values.length < 16) {
                continue;
            }
            long[] receive = new long[8];
            long[] transmit = new long[8];
            for (int i = 0; i < 8; i++) {
                receive[i] = Long.parseUnsignedLong(values[i]);
                transmit[i] = Long.parseUnsignedLong(values[8 + i]);
            }
            lines.add(new NetDevLine(line.substring(0, colon).trim(), receive, transmit));
        }
        return List.copyOf(lines);
    }
}
