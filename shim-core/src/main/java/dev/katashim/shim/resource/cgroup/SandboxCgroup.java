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
import java.util.stream.Stream;

/**
 * A sandbox's cgroup on the host, {@code /kata_overhead/<id>} as upstream: the VMM (or the host
 * agent, and then its containers) goes in, so its usage is the host side of the pod overhead. A
 * host without a usable cgroup filesystem gets none: that is logged, and the sandbox still runs.
 */
public final class SandboxCgroup {
    private static final Logger log = LoggerFactory.getLogger(SandboxCgroup.class);
    private static final String ROOT = "/kata_overhead/";
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
        try {
            return new SandboxCgroup(sandboxId, HostCgroup.create(path(sandboxId)));
        } catch (IOException | RuntimeException e) {
            log.warn("sandbox {}: no host cgroup ({}); pod overhead will not be measured", sandboxId, e.getMessage());
            return new SandboxCgroup(sandboxId, null);
        }
    }

    static String path(String sandboxId) {
        return ROOT + sandboxId;
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
     * ...), empty directories once their processes are gone, removed deepest first.
     */
    public static void removeLeftover(String sandboxId) throws IOException {
        HostCgroup.create(path(sandboxId)).remove();
        Path root = Path.of("/sys/fs/cgroup");
        List<Path> hierarchies = new ArrayList<>(List.of(root));
        try (Stream<Path> list = Files.list(root)) {
            list.filter(Files::isDirectory).forEach(hierarchies::add);
        }
        for (Path hierarchy : hierarchies) {
            Path top = hierarchy.resolve(path(sandboxId).substring(1));
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
