package dev.katashim.shim.resource.cgroup;

import dev.katashim.metrics.overhead.Usage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * A cgroup in the unified (v2) hierarchy with the cpu and memory controllers enabled down to it.
 * Usage: {@code usage_usec} of {@code cpu.stat} (microseconds, converted to ns) and
 * {@code memory.current}.
 */
public final class CgroupV2 implements HostCgroup {
    private static final Logger log = LoggerFactory.getLogger(CgroupV2.class);

    private final String path;
    private final Path dir;

    private CgroupV2(String path, Path dir) {
        this.path = path;
        this.dir = dir;
    }

    static CgroupV2 create(Path unified, String path) throws IOException {
        Path dir = unified.resolve(CgroupV1.relative(path));
        // a controller is usable in a child only where every ancestor lists it in cgroup.subtree_control
        Path at = unified;
        for (Path part : unified.relativize(dir)) {
            enableControllers(at);
            at = at.resolve(part);
            if (!Files.isDirectory(at)) {
                Files.createDirectory(at);
            }
        }
        return new CgroupV2(path, dir);
    }

    private static void enableControllers(Path parent) {
        try {
            List<String> available = Arrays.asList(Files.readString(parent.resolve("cgroup.controllers")).trim().split("\\s+"));
            List<String> enabled = Arrays.asList(Files.readString(parent.resolve("cgroup.subtree_control")).trim().split("\\s+"));
            for (String controller : List.of("cpu", "memory")) {
                if (available.contains(controller) && !enabled.contains(controller)) {
                    Files.writeString(parent.resolve("cgroup.subtree_control"), "+" + controller);
                }
            }
        } catch (IOException e) {
            log.warn("cgroup v2: cannot enable cpu and memory below {}: {}", parent, e.getMessage());
        }
    }

    @Override
    public String path() {
        return path;
    }

    @Override
    public void addProcess(long pid) throws IOException {
        try {
            Files.writeString(dir.resolve("cgroup.procs"), Long.toString(pid));
        } catch (IOException e) {
            throw new IOException("cannot move pid " + pid + " into " + dir + ": " + e.getMessage(), e);
        }
    }

    @Override
    public List<Path> procsFiles() {
        return List.of(dir.resolve("cgroup.procs"));
    }

    @Override
    public List<Long> processes() throws IOException {
        return HostCgroup.parseProcs(Files.readString(dir.resolve("cgroup.procs")));
    }

    @Override
    public Usage usage() throws IOException {
        long cpu = parseCpuStatUsageNanos(Files.readString(dir.resolve("cpu.stat")));
        long mem = Long.parseLong(Files.readString(dir.resolve("memory.current")).trim());
        return new Usage(cpu, mem);
    }

    /** {@code usage_usec} of a cpu.stat text, in nanoseconds. */
    public static long parseCpuStatUsageNanos(String cpuStat) {
        for (String line : cpuStat.split("\n")) {
            String[] parts = line.trim().split("\\s+");
            if (parts.length == 2 && parts[0].equals("usage_usec")) {
                return Math.multiplyExact(Long.parseLong(parts[1]), 1000L);
            }
        }
        throw new IllegalArgumentException("no usage_usec in cpu.stat");
    }

    @Override
    public void remove() throws IOException {
        evacuateAndRemove(dir);
    }

    /** Moves what is left in {@code dir} to its parent and removes it, waiting briefly for exiting tasks. */
    static void evacuateAndRemove(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return;
        }
        for (int attempt = 0; ; attempt++) {
            try {
                for (long pid : HostCgroup.parseProcs(Files.readString(dir.resolve("cgroup.procs")))) {
                    try {
                        Files.writeString(dir.getParent().resolve("cgroup.procs"), Long.toString(pid));
                    } catch (IOException e) {
                        log.debug("cgroup {}: pid {} not moved out: {}", dir, pid, e.getMessage());
                    }
                }
                Files.delete(dir);
                return;
            } catch (NoSuchFileException e) {
                return;
            } catch (FileSystemException e) { // EBUSY, or not empty yet
                if (attempt >= 50) {
                    throw new IOException("cannot remove cgroup " + dir + ": " + e.getMessage(), e);
                }
                try {
                    Thread.sleep(20); // a task that just exited leaves its cgroup a moment later
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted while removing cgroup " + dir, interrupted);
                }
            }
        }
    }

    @Override
    public String toString() {
        return "cgroup v2 " + path + " " + dir;
    }
}
