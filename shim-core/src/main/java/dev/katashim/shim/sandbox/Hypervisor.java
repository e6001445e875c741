package dev.katashim.shim.sandbox;

import dev.katashim.ttrpc.transport.Endpoint;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * What runs a sandbox's agent: a VMM booting a guest (QEMU), or, without isolation, the agent as a
 * host process. The shim starts it, talks to the agent at {@link #agentEndpoint()}, reports
 * {@link #pid()} as every task's pid (as upstream reports the hypervisor's), and stops it last.
 */
public interface Hypervisor {
    /** The configuration name of this backend ("none", "qemu"). */
    String kind();

    /** Whether the sandbox's containers are isolated from the host by a VM. */
    boolean isolated();

    /**
     * Starts the VMM (or the host agent) for the sandbox whose private directory is {@code dir},
     * inside the sandbox's host cgroup ({@code placement}).
     */
    void start(SandboxDirectory dir, Placement placement) throws IOException;

    /**
     * Where the processes go: {@code launchPrefix} starts a command inside the sandbox's host cgroup
     * (empty: none); {@code adopt} moves an already started process into it; {@code containerCgroupParent}
     * is where a host agent puts container cgroups.
     */
    record Placement(java.util.List<String> launchPrefix, java.util.function.LongConsumer adopt, String containerCgroupParent) {
    }

    /** What the backend can count beyond /proc (vCPU exits, fatal signals); absent counters stay absent. */
    default dev.katashim.metrics.HypervisorMetricsSource metricsSource() {
        return dev.katashim.metrics.HypervisorMetricsSource.NONE;
    }

    /** The guest's console log, for error messages (empty without a guest). */
    default java.util.Optional<java.nio.file.Path> consoleLog() {
        return java.util.Optional.empty();
    }

    /**
     * Makes a container's root filesystem (a host directory) reachable by the agent and returns the
     * path the agent must use. A host agent sees host paths; a guest sees the sandbox's share.
     */
    default java.nio.file.Path shareRootfs(String containerId, java.nio.file.Path hostRootfs) throws IOException {
        return hostRootfs;
    }

    /** Undoes {@link #shareRootfs} once the container is gone. */
    default void unshareRootfs(String containerId) {
    }

    Endpoint agentEndpoint();

    long pid();

    /** Completes with the process's exit status when the VMM (or host agent) exits, for any reason. */
    CompletableFuture<Integer> exited();

    /** Asks it to stop, then kills it after {@code grace}; returns once it is gone. */
    void stop(Duration grace);
}
