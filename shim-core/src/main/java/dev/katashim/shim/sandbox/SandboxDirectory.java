package dev.katashim.shim.sandbox;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * A sandbox's private directory, {@code <root>/<sandbox-id>} (upstream: {@code /run/vc/sbs/<id>}):
 * the agent's socket and state, the VMM's files, the management socket, and the pid file that
 * {@code delete} uses to clean up after a dead shim.
 */
public record SandboxDirectory(Path path) {
    public static final Path DEFAULT_ROOT = Path.of("/run/vc/sbs");

    public static SandboxDirectory of(Path root, String sandboxId) {
        return new SandboxDirectory(root.resolve(sandboxId));
    }

    /** The root from {@code KATA_SHIM_SANDBOX_ROOT}, else upstream's {@code /run/vc/sbs}. */
    public static Path root() {
        String configured = System.getenv("KATA_SHIM_SANDBOX_ROOT");
        return configured == null || configured.isEmpty() ? DEFAULT_ROOT : Path.of(configured);
    }

    public SandboxDirectory create() throws IOException {
        Files.createDirectories(path.getParent());
        if (!Files.isDirectory(path)) {
            Files.createDirectory(path, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        }
        return this;
    }

    private void unmountBelow() throws IOException {
        String prefix = path.toAbsolutePath() + "/";
        List<String> mounted = new java.util.ArrayList<>();
        for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
            String[] fields = line.split(" ");
            // field 5 is the mount point, with spaces and the like octal-escaped
            String point = fields.length > 4 ? fields[4].replace("\\040", " ") : "";
            if (point.startsWith(prefix)) {
                mounted.add(point);
            }
        }
        mounted.sort(java.util.Comparator.reverseOrder()); // deepest first
        for (String point : mounted) {
            dev.katashim.shim.sys.HostCommand.run(List.of("umount", "-l", point), java.time.Duration.ofSeconds(30),
                    "unmount " + point + " before removing " + path);
        }
    }

    public Path resolve(String name) {
        return path.resolve(name);
    }

    /** Where the hypervisor (or host agent) writes its pid, for cleanup by {@code delete}. */
    public Path pidFile() {
        return path.resolve("hypervisor.pid");
    }

    /**
     * Removes the directory. Anything still mounted below it (a container's root filesystem shared
     * with a guest) is unmounted first: deleting through a bind mount would delete the user's files.
     */
    public void delete() throws IOException {
        if (!Files.exists(path)) {
            return;
        }
        unmountBelow();
        try (Stream<Path> walk = Files.walk(path)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
