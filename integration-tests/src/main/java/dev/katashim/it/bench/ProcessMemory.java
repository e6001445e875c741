package dev.katashim.it.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** A process's resident and private memory and its thread count, from /proc. */
public record ProcessMemory(long rssKib, long ussKib, int threads) {

    public static ProcessMemory of(long pid) throws IOException {
        long rss = 0;
        int threads = 0;
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith("VmRSS:")) {
                rss = kib(line);
            } else if (line.startsWith("Threads:")) {
                threads = Integer.parseInt(line.split("\\s+")[1]);
            }
        }
        long uss = 0;
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/smaps_rollup"))) {
            if (line.startsWith("Private_Clean:") || line.startsWith("Private_Dirty:")) {
                uss += kib(line);
            }
        }
        return new ProcessMemory(rss, uss, threads);
    }

    /** Proportional set size: a shared page is divided among the processes that map it, so pods add up. */
    public static long pssKib(long pid) throws IOException {
        return Files.readAllLines(Path.of("/proc/" + pid + "/smaps_rollup")).stream()
                .filter(l -> l.startsWith("Pss:")).mapToLong(ProcessMemory::kib).sum();
    }

    private static long kib(String line) {
        return Long.parseLong(line.split("\\s+")[1]);
    }

    public double rssMib() {
        return rssKib / 1024.0;
    }

    public double ussMib() {
        return ussKib / 1024.0;
    }
}
