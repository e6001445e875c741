package dev.katashim.shim.resource.cgroup;

import dev.katashim.metrics.overhead.Usage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * A sandbox's cgroup on the host: the VMM (or the host agent, and then its containers) goes in, so
 * its usage is the host side of the pod overhead. A CRI pod's is inside the pod's cgroup, beside
 * where the sandbox container's {@code cgroupsPath} points, named {@code kata_<id>} as upstream
 * names it ({@code <pod cgroup>/kata_<id>}): kubelet and containerd's pod stats read the pod's
 * cgroup, and the VM is what a Kata pod costs the node. Any other sandbox's is upstream's
 * {@code /kata_overhead/<id>}. A host without a usable cgroup filesystem gets none: that is
 * logged, and the sandbox still runs.
 */
public final class SandboxCgroup {
    private static final Logger log = LoggerFactory.getLogger(SandboxCgroup.class);
    private static final String ROOT = "/kata_overhead/";
    private static final String POD_PREFIX = "kata_";
    /** Where a host agent's container cgroups go when there is no sandbox cgroup. */
    private static final String FALLBACK_PARENT = "/kata-shim";

    private final String sandboxId;
    private final HostCgroup cgroup;

    private SandboxCgroup(String sandboxId, HostCgroup cgroup) {
        this.sandboxId = sandboxId;
        this.cgroup = cgroup;
    }

    /** Before the hypervisor starts, so that it is charged from its first page. */
    public static SandboxCgroup create(String sandboxId) {
        return create(sandboxId, Optional.empty());
    }

    /** In the pod's cgroup when {@code podCgroupsPath} (the sandbox container's cgroupsPath, see {@link PodCgroupPath}) is given. */
    public static SandboxCgroup create(String sandboxId, Optional<String> podCgroupsPath) {
        try {
            return new SandboxCgroup(sandboxId, HostCgroup.create(path(sandboxId, podCgroupsPath)));
        } catch (IOException | RuntimeException e) {
            log.warn("sandbox {}: no host cgroup ({}); pod overhead will not be measured", sandboxId, e.getMessage());
            return new SandboxCgroup(sandboxId, null);
        }
    }

    static String path(String sandboxId) {
        return ROOT + sandboxId;
    }

    /** {@code /pods/p1/abc} becomes {@code /pods/p1/kata_abc}; without a pod cgroup, {@code /kata_overhead/<id>}. */
    static String path(String sandboxId, Optional<String> podCgroupsPath) {
        return podCgroupsPath.map(p -> {
            int slash = p.lastIndexOf('/');
            return p.substring(0, slash + 1) + POD_PREFIX + p.substring(slash + 1);
        }).orElse(path(sandboxId));
    }

    /** The cgroup's path below the hierarchies' roots, for the sandbox directory's record; empty without one. */
    public Optional<String> path() {
        return cgroup == null ? Optional.empty() : Optional.of(cgroup.path());
    }

    /** The prefix that starts a command inside the cgroup (empty without one). */
    public List<String> launchPrefix() {
        return cgroup == null ? List.of() : cgroup.launchPrefix();
    }

    /** Moves an already started process (QEMU) into the cgroup. */
    public void adopt(long pid) {
        if (cgroup == null) {
            return;
        }
        try {
            cgroup.addProcess(pid);
        } catch (IOException e) {
            log.warn("sandbox {}: cannot move pid {} into {}: {}", sandboxId, pid, cgroup.path(), e.getMessage());
        }
    }

    /** Where container cgroups of a host agent go: inside the sandbox's, so its usage includes them. */
    public String containerParent() {
        return cgroup == null ? FALLBACK_PARENT : cgroup.path();
    }

    /** Whether the host gave the sandbox a cgroup. */
    public boolean exists() {
        return cgroup != null;
    }

    /** CPU and memory used by everything in the cgroup, for the pod-overhead sampler. */
    public Usage usage() throws IOException {
        if (cgroup == null) {
            throw new IOException("sandbox " + sandboxId + " has no host cgroup");
        }
        return cgroup.usage();
    }

    /** Last of the teardown, once the hypervisor is gone. */
    public void remove() {
        if (cgroup == null) {
            return;
        }
        try {
            cgroup.remove();
        } catch (IOException e) {
            log.warn("sandbox {}: cannot remove cgroup {}: {}", sandboxId, cgroup.path(), e.getMessage());
        }
    }

    /**
     * After a dead shim ({@code delete}), once what was in it has been killed: the sandbox's cgroup,
     * and the parents runc left for container cgroups in every hierarchy (pids, devices, freezer,
     * ...), empty directories once their processes are gone, removed deepest first. {@code recorded}
     * is the path the sandbox directory kept (a pod's cgroup), if any.
     */
    public static void removeLeftover(String sandboxId, Optional<String> recorded) throws IOException {
        List<String> paths = new ArrayList<>(List.of(path(sandboxId)));
        recorded.filter(p -> !p.equals(path(sandboxId))).ifPresent(paths::add);
        for (String path : paths) {
            removeLeftoverTree(path);
        }
    }

    private static void removeLeftoverTree(String path) throws IOException {
        Path root = Path.of("/sys/fs/cgroup");
        List<Path> hierarchies = new ArrayList<>(List.of(root));
        try (Stream<Path> list = Files.list(root)) {
            list.filter(Files::isDirectory).forEach(hierarchies::add);
        }
        // opening a cgroup creates it (and its parents): only one that is still there
        if (hierarchies.stream().anyMatch(h -> Files.isDirectory(h.resolve(path.substring(1))))) {
            HostCgroup.create(path).remove();
        }
        for (Path hierarchy : hierarchies) {
            Path top = hierarchy.resolve(path.substring(1));
            if (!Files.isDirectory(top)) {
                continue;
            }
            try (Stream<Path> walk = Files.walk(top)) {
                for (Path dir : walk.filter(Files::isDirectory).sorted(Comparator.reverseOrder()).toList()) {
                    try {
                        Files.delete(dir);
                    } catch (IOException busy) {
                        log.warn("delete: cannot remove cgroup {}: {}", dir, busy.getMessage());
                    }
                }
            }
        }
    }
}
