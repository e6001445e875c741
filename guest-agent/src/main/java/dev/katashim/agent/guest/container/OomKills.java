package dev.katashim.agent.guest.container;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The OOM kills in one container's cgroup that were not reported yet. The kernel counts them
 * ({@code oom_kill} in cgroup v2's {@code memory.events}, which includes the cgroups below, or in
 * v1's {@code memory.oom_control}); every increase of the counter is that many kills, so reading
 * it whenever it may have changed reports each kill exactly once, also one that happened in an
 * exec (same cgroup). Read before the container's cgroup is deleted, nothing is missed.
 */
final class OomKills {
    private static final List<String> COUNTER_FILES = List.of("memory.events", "memory.oom_control");

    private final List<Path> cgroupDirs;
    private long reported;

    /** @param cgroupDirs the container's cgroup in every mounted hierarchy (they need not exist yet) */
    OomKills(List<Path> cgroupDirs) {
        this.cgroupDirs = List.copyOf(cgroupDirs);
    }

    /** How many kills happened since the last call (0 when the cgroup is gone or has no memory controller). */
    synchronized int takeNew() {
        long now = read();
        if (now <= reported) {
            return 0;
        }
        int fresh = (int) Math.min(Integer.MAX_VALUE, now - reported);
        reported = now;
        return fresh;
    }

    private long read() {
        for (Path dir : cgroupDirs) {
            for (String name : COUNTER_FILES) {
                Path file = dir.resolve(name);
                try {
                    for (String line : Files.readAllLines(file)) {
                        if (line.startsWith("oom_kill ")) {
                            return Long.parseLong(line.substring("oom_kill ".length()).strip());
                        }
                    }
                } catch (IOException | NumberFormatException e) {
                    // not this hierarchy, or the cgroup is gone
                }
            }
        }
        return -1;
    }
}
