package dev.katashim.agent.guest;

import dev.katashim.ttrpc.transport.Endpoint;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * How an agent runs.
 *
 * @param listen       where it serves ttrpc (vsock, a unix socket, ...)
 * @param stateDir     runc's root, the bundles and console sockets live below it
 * @param hostMode     the no-VM sandbox: the agent is a host process, containers share the host
 *                     kernel with no VM isolation; calls that would change the host are refused
 * @param runc         the runc binary
 * @param cgroupParent containers go to {@code <cgroupParent>/<container id>}
 * @param sharedDir    the directory CopyFile may write in
 * @param serialPorts  virtio-serial character devices to serve ttrpc on (a guest without vsock)
 */
public record AgentOptions(List<Endpoint> listen, Path stateDir, boolean hostMode, Path runc, String cgroupParent,
                           Path sharedDir, List<Path> serialPorts) {

    public static final Path VM_STATE_DIR = Path.of("/run/kata-agent");
    public static final Path VM_SHARED_DIR = Path.of("/run/kata-containers/shared/containers");
    public static final String DEFAULT_CGROUP_PARENT = "/kata-agent";

    public AgentOptions {
        listen = List.copyOf(listen);
        serialPorts = List.copyOf(serialPorts);
        stateDir = stateDir.toAbsolutePath().normalize();
    }

    public AgentOptions(List<Endpoint> listen, Path stateDir, boolean hostMode, Path runc, String cgroupParent, Path sharedDir) {
        this(listen, stateDir, hostMode, runc, cgroupParent, sharedDir, List.of());
    }

    public Path runcRoot() {
        return stateDir.resolve("runc");
    }

    public Path bundlesDir() {
        return stateDir.resolve("bundles");
    }

    public Path consoleDir() {
        return stateDir.resolve("console");
    }

    /** The first runc found in the usual places. */
    public static Path findRunc() {
        for (String dir : List.of("/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin", "/sbin", "/bin")) {
            Path candidate = Path.of(dir, "runc");
            if (Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        return Path.of("runc");
    }
}
