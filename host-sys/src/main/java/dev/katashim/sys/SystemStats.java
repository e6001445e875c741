package dev.katashim.sys;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The machine-wide counters of /proc: CPU times, load, virtual memory, memory and disks. As
 * {@link ProcFs}, no reader throws: an unreadable file gives an empty result.
 */
public final class SystemStats {
    /** This machine's /proc. */
    public static final SystemStats HOST = new SystemStats(Path.of("/proc"));

    private final Path root;

    /** A reader of the proc filesystem mounted at {@code root}. */
    public SystemStats(Path root) {
        this.root = root;
    }

    /**
     * The "cpu" and "cpuN" lines of /proc/stat by that name: clock ticks in user, nice, system,
     * idle, iowait, irq, softirq, steal, guest, guest_nice (ten values; 0 where a kernel prints fewer).
     */
    public Map<String, long[]> cpuTimes() {
        Map<String, long[]> times = new LinkedHashMap<>();
        for (String line : ProcFs.text(root.resolve("stat")).split("\n")) {
            if (!line.startsWith("cpu")) {
                continue;
            }
            String[] parts = line.trim().split("\\s+");
            long[] ticks = new long[10];
            try {
                for (int i = 1; i < parts.length && i <= 10; i++) {
                    ticks[i - 1] = Long.parseLong(parts[i]);
                }
            } catch (NumberFormatException e) {
                continue;
            }
            times.put(parts[0], ticks);
        }
        return times;
    }

    /** {@code /proc/loadavg}. */
    public Optional<LoadAverage> loadAverage() {
        return LoadAverage.parse(ProcFs.text(root.resolve("loadavg")));
    }

    /** {@code /proc/vmstat}: counter name → value. */
    public Map<String, Long> vmstat() {
        Map<String, Long> values = new LinkedHashMap<>();
        for (String line : ProcFs.text(root.resolve("vmstat")).split("\n")) {
            String[] parts = line.trim().split("\\s+");
            if (parts.length == 2) {
                try {
                    values.put(parts[0], Long.parseLong(parts[1]));
                } catch (NumberFormatException ignored) {
                    // not a counter
                }
            }
        }
        return values;
    }

    /** {@code /proc/meminfo}: sizes in bytes (counts such as HugePages_Total as they are). */
    public Map<String, Long> meminfo() {
        return KeyValues.parse(ProcFs.text(root.resolve("meminfo")), true);
    }

    /**
     * {@code /proc/diskstats}: device name → its counters after the name (reads, reads merged,
     * sectors read, ...: 11 to 17 of them, by kernel version).
     */
    public Map<String, long[]> diskstats() {
        Map<String, long[]> disks = new LinkedHashMap<>();
        for (String line : ProcFs.text(root.resolve("diskstats")).split("\n")) {
            String[] parts = line.trim().split("\\s+");
            if (parts.length < 14) {
                continue;
            }
            long[] values = new long[parts.length - 3];
            try {
                for (int i = 3; i < parts.length; i++) {
                    values[i - 3] = Long.parseLong(parts[i]);
                }
            } catch (NumberFormatException e) {
                continue;
            }
            disks.put(parts[2], values);
        }
        return disks;
    }
}
