package dev.katashim.vmm;

import dev.katashim.ttrpc.transport.Endpoint;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.LongConsumer;

/**
 * What runs a sandbox's agent: a VMM booting a guest ({@link dev.katashim.vmm.qemu.QemuHypervisor}),
 * or, without isolation, the agent as a host process ({@link dev.katashim.vmm.none.HostAgentHypervisor}).
 * The shim starts it, talks to the agent at {@link #agentEndpoint()}, reports {@link #pid()} as
 * every task's pid (as upstream reports the hypervisor's), and stops it last.
 */
public interface Hypervisor {
    /** The configuration name of this backend ("none", "qemu"). */
    String kind();

    /** Whether the sandbox's containers are isolated from the host by a VM. */
    boolean isolated();

    /**
     * Starts the VMM (or the host agent) for the sandbox whose private directory is
     * {@code sandboxDir}; its sockets and logs go there, its processes where {@code placement} says.
     * Returns once the VMM runs and can be controlled, not once the guest has booted: the agent
     * dial waits for that.
     */
    void start(Path sandboxDir, Placement placement) throws IOException;

    /** {@link #start(Path, Placement)} outside any host cgroup. */
    default void start(Path sandboxDir) throws IOException {
        start(sandboxDir, Placement.NONE);
    }

    /**
     * Where the backend's processes go: {@code launchPrefix} starts a command inside the sandbox's
     * host cgroup (empty: none); {@code adopt} moves an already started process into it;
     * {@code containerCgroupParent} is where a host agent puts container cgroups.
     */
    record Placement(List<String> launchPrefix, LongConsumer adopt, String containerCgroupParent) {
        public static final Placement NONE = new Placement(List.of(), pid -> { }, "/kata-shim");

        public Placement {
            launchPrefix = List.copyOf(launchPrefix);
        }
    }

    /** Where the agent inside answers; valid after {@link #start}. */
    Endpoint agentEndpoint();

    /** The VMM's host pid, 0 before {@link #start}. */
    long pid();

    /**
     * Completes with the process's exit status when the VMM exits, for any reason, as Java reports
     * it: the exit code, or 128 + the signal number for a process killed by a signal.
     */
    CompletableFuture<Integer> exited();

    /** Asks it to stop, then kills it after {@code grace}; returns once it is gone. */
    void stop(Duration grace);

    /** What this backend can tell about itself for the {@code kata_hypervisor_*} metrics. */
    HypervisorMetrics metrics();

    /** The guest console's log file, where the backend keeps one (for error messages). */
    default Optional<Path> consoleLog() {
        return Optional.empty();
    }
}
