package dev.katashim.shim.resource.cgroup;

import dev.katashim.metrics.overhead.Usage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * A cgroup in the v1 cpu, cpuacct and memory hierarchies (each directory once where controllers
 * share a mount). Usage: {@code cpuacct.usage} (ns) and {@code memory.usage_in_bytes}.
 */
public final class CgroupV1 implements HostCgroup {
    private static final Logger log = LoggerFactory.getLogger(CgroupV1.class);

    private final String path;
    private final List<Path> dirs;
    private final Path cpuacct;
    private final Path memory;

    private CgroupV1(String path, List<Path> dirs, Path cpuacct, Path memory) {
        this.path = path;
        this.dirs = List.copyOf(dirs);
        this.cpuacct = cpuacct;
        this.memory = memory;
    }

    static CgroupV1 create(CgroupMounts mounts, String path) throws IOException {
        String relative = relative(path);
        Set<Path> dirs = new LinkedHashSet<>();
        for (String controller : List.of("cpu", "cpuacct", "memory")) {
            Path mount = mounts.v1().get(controller);
            if (mount != null) {
                dirs.add(mount.resolve(relative));
            }
        }
        for (Path dir : dirs) {
            Files.createDirectories(dir);
        }
        Path memory = mounts.v1().get("memory").resolve(relative);
        try {
            // the memory a process already has moves with it (else only new pages would be charged here)
            Files.writeString(memory.resolve("memory.move_charge_at_immigrate"), "3");
        } catch (IOException e) {
            log.debug("cgroup {}: memory.move_charge_at_immigrate not set: {}", path, e.getMessage());
        }
        return new CgroupV1(path, new ArrayList<>(dirs), mounts.v1().get("cpuacct").resolve(relative), memory);
    }

    static String relative(String path) {
        String relative = path.replaceAll("^/+", "");
        if (relative.isEmpty() || Path.of(relative).normalize().startsWith("..")) {
            throw new IllegalArgumentException("not a cgroup path below the root: '" + path + "'");
        }
        return relative;
    }

    @Override
    public String path() {
        return path;
    }

    @Override
    public void addProcess(long pid) throws IOException {
        for (Path dir : dirs) {
            try {
                Files.writeString(dir.resolve("cgroup.procs"), Long.toString(pid));
            } catch (IOException e) {
                throw new IOException("cannot move pid " + pid + " into " + dir + ": " + e.getMessage(), e);
            }
        }
    }

    @Override
    public List<Path> procsFiles() {
        return dirs.stream().map(d -> d.resolve("cgroup.procs")).toList();
    }

    @Override
    public List<Long> processes() throws IOException {
        return HostCgroup.parseProcs(Files.readString(dirs.getFirst().resolve("cgroup.procs")));
    }

    @Override
    public Usage usage() throws IOException {
        long cpu = Long.parseLong(Files.readString(cpuacct.resolve("cpuacct.usage")).trim());
        long mem = Long.parseLong(Files.readString(memory.resolve("memory.usage_in_bytes")).trim());
        return new Usage(cpu, mem);
    }

    @Override
    public void remove() throws IOException {
        for (Path dir : dirs) {
            CgroupV2.evacuateAndRemove(dir);
        }
    }

    @Override
    public String toString() {
        return "cgroup v1 " + path + " " + dirs;
    }
}
