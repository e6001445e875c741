package dev.katashim.agent.guest.metrics;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Readers of the /proc files the metrics come from. Each returns plain values and never throws:
 * a file that cannot be read gives an empty result (a metric is then left out, the scrape goes on).
 */
final class ProcFs {
    /** USER_HZ: the unit of /proc's tick counts, fixed at 100 by the Linux ABI. */
    static final double TICKS_PER_SECOND = 100.0;
    static final double UNLIMITED = 18446744073709551615.0;

    private final Path proc;

    ProcFs(Path proc) {
        this.proc = proc;
    }

    /** Fields of /proc/<pid>/stat after the command name; index 0 is field 3 (state). */
    record Stat(String[] fields) {
        long field(int number) {
            int index = number - 3;
            return index >= 0 && index < fields.length ? Long.parseLong(fields[index]) : 0;
        }

        long utime() {
            return field(14);
        }

        long stime() {
            return field(15);
        }

        long cutime() {
            return field(16);
        }

        long cstime() {
            return field(17);
        }

        long threads() {
            return field(20);
        }

        long startTicks() {
            return field(22);
        }

        long vsize() {
            return field(23);
        }
    }

    Stat stat(String pid) {
        String text = read(proc.resolve(pid).resolve("stat"));
        int close = text.lastIndexOf(')');
        if (close < 0) {
            return new Stat(new String[0]);
        }
        return new Stat(text.substring(close + 1).trim().split("\\s+"));
    }

    /** "Key: value [kB]" files (/proc/<pid>/status, /proc/meminfo); kB values in bytes. */
    Map<String, Long> keyValues(Path file, boolean kilobytesToBytes) {
        Map<String, Long> values = new LinkedHashMap<>();
        for (String line : read(file).lines().toList()) {
            int colon = line.indexOf(':');
            if (colon <= 0) {
                continue;
            }
            String[] parts = line.substring(colon + 1).trim().split("\\s+");
            try {
                long value = Long.parseLong(parts[0]);
                if (kilobytesToBytes && parts.length > 1 && parts[1].equals("kB")) {
                    value *= 1024;
                }
                values.put(line.substring(0, colon).trim(), value);
            } catch (NumberFormatException e) {
                // not a number (e.g. "State: S (sleeping)")
            }
        }
        return values;
    }

    Map<String, Long> status(String pid) {
        return keyValues(proc.resolve(pid).resolve("status"), true);
    }

    Map<String, Long> io(String pid) {
        return keyValues(proc.resolve(pid).resolve("io"), false);
    }

    Map<String, Long> meminfo() {
        return keyValues(proc.resolve("meminfo"), true);
    }

    /** "name value" lines (/proc/vmstat). */
    Map<String, Long> vmstat() {
        Map<String, Long> values = new LinkedHashMap<>();
        for (String line : read(proc.resolve("vmstat")).lines().toList()) {
            String[] parts = line.trim().split("\\s+");
            if (parts.length == 2) {
                try {
                    values.put(parts[0], Long.parseLong(parts[1]));
                } catch (NumberFormatException ignored) {
                    // skip
                }
            }
        }
        return values;
    }

    int openFds(String pid) {
        try (Stream<Path> fds = Files.list(proc.resolve(pid).resolve("fd"))) {
            return (int) fds.count();
        } catch (IOException e) {
            return 0;
        }
    }

    /** A soft limit from /proc/<pid>/limits ("Max open files", "Max address space"); unlimited as 2^64-1. */
    double softLimit(String pid, String name) {
        for (String line : read(proc.resolve(pid).resolve("limits")).lines().toList()) {
            if (line.startsWith(name)) {
                String[] parts = line.substring(name.length()).trim().split("\\s+");
                return parts[0].equals("unlimited") ? UNLIMITED : Double.parseDouble(parts[0]);
            }
        }
        return 0;
    }

    /** Boot time in seconds since the epoch ("btime" of /proc/stat). */
    long bootTime() {
        for (String line : read(proc.resolve("stat")).lines().toList()) {
            if (line.startsWith("btime ")) {
                return Long.parseLong(line.substring(6).trim());
            }
        }
        return 0;
    }

    /** The "cpu" and "cpuN" lines of /proc/stat: label ("total", "0", ...) → ticks per state. */
    Map<String, long[]> cpuTimes() {
        Map<String, long[]> times = new LinkedHashMap<>();
        for (String line : read(proc.resolve("stat")).lines().toList()) {
            if (!line.startsWith("cpu")) {
                continue;
            }
            String[] parts = line.trim().split("\\s+");
            String label = parts[0].equals("cpu") ? "total" : parts[0].substring(3);
            long[] ticks = new long[10];
            for (int i = 1; i < parts.length && i <= 10; i++) {
                ticks[i - 1] = Long.parseLong(parts[i]);
            }
            times.put(label, ticks);
        }
        return times;
    }

    /** /proc/loadavg: load1, load5, load15, running tasks, total tasks. */
    double[] loadavg() {
        String[] parts = read(proc.resolve("loadavg")).trim().split("\\s+");
        if (parts.length < 4) {
            return new double[0];
        }
        String[] tasks = parts[3].split("/");
        return new double[]{Double.parseDouble(parts[0]), Double.parseDouble(parts[1]), Double.parseDouble(parts[2]),
                Double.parseDouble(tasks[0]), Double.parseDouble(tasks[1])};
    }

    /** /proc/diskstats rows: device name → its counters (11 to 17 of them, by kernel version). */
    Map<String, long[]> diskstats() {
        Map<String, long[]> disks = new LinkedHashMap<>();
        for (String line : read(proc.resolve("diskstats")).lines().toList()) {
            String[] parts = line.trim().split("\\s+");
            if (parts.length < 14) {
                continue;
            }
            long[] values = new long[parts.length - 3];
            for (int i = 3; i < parts.length; i++) {
                values[i - 3] = Long.parseLong(parts[i]);
            }
            disks.put(parts[2], values);
        }
        return disks;
    }

    /** Mounts of /proc/self/mountinfo: mount point, fstype, source, super options. */
    record MountInfo(String mountPoint, String fstype, String source, String superOptions, String majorMinor) {
    }

    List<MountInfo> mounts() {
        List<MountInfo> mounts = new ArrayList<>();
        for (String line : read(proc.resolve("self").resolve("mountinfo")).lines().toList()) {
            int dash = line.indexOf(" - ");
            if (dash < 0) {
                continue;
            }
            String[] before = line.substring(0, dash).split(" ");
            String[] after = line.substring(dash + 3).split(" ");
            if (before.length < 5 || after.length < 3) {
                continue;
            }
            mounts.add(new MountInfo(unescape(before[4]), after[0], after[1], after[2], before[2]));
        }
        return mounts;
    }

    private static String unescape(String path) {
        return path.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\");
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            return "";
        }
    }
}
