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
     * (empty: none); {@code containerCgroupParent} is where a host agent puts container cgroups.
     */
    record Placement(java.util.List<String> launchPrefix, String containerCgroupParent) {
    }

    Endpoint agentEndpoint();

    long pid();

    /** Completes with the process's exit status when the VMM (or host agent) exits, for any reason. */
    CompletableFuture<Integer> exited();

    /** Asks it to stop, then kills it after {@code grace}; returns once it is gone. */
    void stop(Duration grace);
}
