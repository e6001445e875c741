package dev.katashim.shim.resource.cgroup;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
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
        return parse(Files.readString(Path.of("/proc/self/mountinfo")));
    }

    /** Parses mountinfo text (see proc(5)): {@code ... mountpoint ... - fstype source superoptions}. */
    public static CgroupMounts parse(String mountinfo) {
        Map<String, Path> v1 = new LinkedHashMap<>();
        Path unified = null;
        for (String line : mountinfo.split("\n")) {
            int dash = line.indexOf(" - ");
            if (dash < 0) {
                continue;
            }
            String[] before = line.substring(0, dash).split(" ");
            String[] after = line.substring(dash + 3).split(" ");
            if (before.length < 5 || after.length < 3) {
                continue;
            }
            Path mountPoint = Path.of(unescape(before[4]));
            switch (after[0]) {
                case "cgroup2" -> {
                    if (unified == null || mountPoint.toString().equals("/sys/fs/cgroup")) {
                        unified = mountPoint;
                    }
                }
                case "cgroup" -> {
                    Set<String> options = new HashSet<>(Arrays.asList(after[2].split(",")));
                    for (String controller : V1_CONTROLLERS) {
                        if (options.contains(controller)) {
                            v1.putIfAbsent(controller, mountPoint);
                        }
                    }
                }
                default -> { }
            }
        }
        return new CgroupMounts(Map.copyOf(v1), unified);
    }

    /** Whether cpu accounting and memory are v1 controllers here (cgroup v1 or hybrid). */
    public boolean isV1() {
        return v1.containsKey("cpuacct") && v1.containsKey("memory");
    }

    private static String unescape(String path) {
        return path.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\");
    }
}
