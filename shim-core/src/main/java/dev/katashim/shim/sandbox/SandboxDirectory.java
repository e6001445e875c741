package dev.katashim.shim.sandbox;

import dev.katashim.shim.oci.Identifiers;
import dev.katashim.sys.HostCommand;
import dev.katashim.sys.MountTable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * A sandbox's private directory, {@code <root>/<sandbox-id>} (upstream: {@code /run/vc/sbs/<id>}),
 * and the one place that knows its layout: the shim's and the hypervisor's pid files (which
 * {@code delete} reads after a dead shim), the share exported to a guest, the backend's own files
 * (agent socket and state, QEMU's sockets and logs) and the management socket.
 */
public record SandboxDirectory(Path path) {
    private static final Logger log = LoggerFactory.getLogger(SandboxDirectory.class);
    public static final Path DEFAULT_ROOT = Path.of("/run/vc/sbs");

    /** {@code <root>/<sandboxId>}; an id that is not containerd's identifier (a path, {@code ..}, too long) is INVALID_ARGUMENT. */
    public static SandboxDirectory of(Path root, String sandboxId) {
        return new SandboxDirectory(root.resolve(Identifiers.check("sandbox id", sandboxId)));
    }

    /** The root from {@code KATA_SHIM_SANDBOX_ROOT}, else upstream's {@code /run/vc/sbs}. */
    public static Path root() {
        String configured = System.getenv("KATA_SHIM_SANDBOX_ROOT");
        return configured == null || configured.isEmpty() ? DEFAULT_ROOT : Path.of(configured);
    }

    public String sandboxId() {
        return path.getFileName().toString();
    }

    /** Creates it (0700) and records the shim serving it, so that {@code delete} tells a live shim's sandbox from a dead one's. */
    SandboxDirectory create() throws IOException {
        Files.createDirectories(path.getParent());
        if (!Files.isDirectory(path)) {
            Files.createDirectory(path, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        }
        Files.writeString(shimPidFile(), Long.toString(ProcessHandle.current().pid()));
        return this;
    }

    public Path resolve(String name) {
        return path.resolve(name);
    }

    /** The pid of the shim serving this sandbox. */
    public Path shimPidFile() {
        return path.resolve("shim.pid");
    }

    /** The pid of the hypervisor (or host agent), for {@code delete} after a dead shim. */
    public Path hypervisorPidFile() {
        return path.resolve("hypervisor.pid");
    }

    /** The sandbox's host cgroup path (a CRI pod's is inside the pod's cgroup), for {@code delete} after a dead shim. */
    public Path hostCgroupFile() {
        return path.resolve("host-cgroup");
    }

    /** Where host directories are bind-mounted for a guest to see them (exported over 9p or virtio-fs). */
    public Path sharedDir() {
        return path.resolve("shared");
    }

    /** A pid recorded in one of the pid files, if it can be read. */
    public static Optional<Long> readPid(Path pidFile) {
        try {
            return Optional.of(Long.parseLong(Files.readString(pidFile).trim()));
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    /**
     * Removes the directory. Anything still mounted below it (a container's root filesystem shared
     * with a guest) is unmounted first: deleting through a bind mount would delete the user's files.
     * What cannot be removed is logged.
     */
    public void delete() {
        if (!Files.exists(path)) {
            return;
        }
        try {
            unmountBelow();
            try (Stream<Path> walk = Files.walk(path)) {
                for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        } catch (IOException e) {
            log.warn("sandbox {}: cannot remove {}: {}", sandboxId(), path, e.getMessage());
        }
    }

    private void unmountBelow() throws IOException {
        for (Path point : MountTable.ofThisProcess().pointsAtOrBelow(path)) { // deepest first
            HostCommand.run(List.of("umount", "-l", point.toString()), Duration.ofSeconds(30), "unmount " + point + " before removing " + path);
        }
    }
}
