package dev.katashim.agent.guest.sandbox;

import dev.katashim.sys.Mount;
import dev.katashim.sys.MountTable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The cgroup under which the agent puts its containers ({@code <parent>/<container id>}, absolute
 * so it does not depend on where the agent itself runs). runc removes a container's own cgroup
 * when it destroys it; the parent directories it created stay, in every hierarchy (cgroup v1
 * has one per controller, v2 one): {@link #removeEmpty()} takes them away.
 */
public record CgroupParent(String path) {

    private static final Logger log = LoggerFactory.getLogger(CgroupParent.class);

    public CgroupParent {
        if (!path.startsWith("/") || path.contains("..") || path.equals("/")) {
            throw new IllegalArgumentException("the cgroup parent must be an absolute path below the root, got " + path);
        }
    }

    public String forContainer(String containerId) {
        return path + "/" + containerId;
    }

    /** Where a container's cgroup is (or will be) in every mounted hierarchy. */
    public List<Path> containerDirectories(String containerId) {
        String relative = forContainer(containerId).substring(1);
        return hierarchyMounts().stream().map(mount -> mount.resolve(relative)).toList();
    }

    /** Every directory that is this parent in a mounted cgroup hierarchy. */
    public List<Path> directories() {
        List<Path> dirs = new ArrayList<>();
        for (Path mount : hierarchyMounts()) {
            Path dir = mount.resolve(path.substring(1));
            if (Files.isDirectory(dir)) {
                dirs.add(dir);
            }
        }
        return dirs;
    }

    /** Removes the parent (and empty children runc left) in every hierarchy; true if none is left. */
    public boolean removeEmpty() {
        boolean clean = true;
        for (Path dir : directories()) {
            try (Stream<Path> walk = Files.walk(dir)) {
                // cgroup directories are removed with rmdir even though they list control files
                for (Path child : walk.filter(Files::isDirectory).sorted(Comparator.reverseOrder()).toList()) {
                    try {
                        Files.delete(child);
                    } catch (IOException e) {
                        clean = false;
                        log.warn("cannot remove cgroup {}: {}", child, e.toString());
                    }
                }
            } catch (IOException e) {
                clean = false;
            }
        }
        return clean;
    }

    /** Mount points of cgroup v1 and v2 hierarchies, from /proc/self/mountinfo. */
    static List<Path> hierarchyMounts() {
        try {
            return MountTable.ofThisProcess().ofType(Set.of("cgroup", "cgroup2")).stream().map(Mount::mountPoint).toList();
        } catch (IOException e) {
            log.warn("cannot read {}: {}", MountTable.SELF, e.toString());
            return List.of();
        }
    }
}
