package dev.katashim.shim.resource.cgroup;

import dev.katashim.sys.Mount;
import dev.katashim.sys.MountTable;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Where the cgroup hierarchies are mounted, from {@code /proc/self/mountinfo}: each cgroup v1
 * controller's mount point (a hybrid host has these plus an empty cgroup2 at
 * {@code /sys/fs/cgroup/unified}), and the cgroup2 mount. A host is treated as v1 when the v1 cpu
 * accounting and memory controllers are mounted, as v2 when only the unified hierarchy has them.
 *
 * @param v1      controller name → mount point (controllers mounted together share one)
 * @param unified the cgroup2 mount point, or null
 */
public record CgroupMounts(Map<String, Path> v1, Path unified) {
    public static final Set<String> V1_CONTROLLERS = Set.of("cpu", "cpuacct", "memory");

    public static CgroupMounts ofThisProcess() throws IOException {
        return of(MountTable.ofThisProcess());
    }

    /** Parses mountinfo text (see proc(5)). */
    public static CgroupMounts parse(String mountinfo) {
        return of(MountTable.parse(mountinfo));
    }

    private static CgroupMounts of(MountTable table) {
        Map<String, Path> v1 = new LinkedHashMap<>();
        Path unified = null;
        for (Mount mount : table.ofType(Set.of("cgroup", "cgroup2"))) {
            if (mount.fsType().equals("cgroup2")) {
                if (unified == null || mount.mountPoint().toString().equals("/sys/fs/cgroup")) {
                    unified = mount.mountPoint();
                }
                continue;
            }
            for (String controller : V1_CONTROLLERS) {
                if (mount.hasSuperOption(controller)) {
                    v1.putIfAbsent(controller, mount.mountPoint());
                }
            }
        }
        return new CgroupMounts(Map.copyOf(v1), unified);
    }

    /** Whether cpu accounting and memory are v1 controllers here (cgroup v1 or hybrid). */
    public boolean isV1() {
        return v1.containsKey("cpuacct") && v1.containsKey("memory");
    }
}
