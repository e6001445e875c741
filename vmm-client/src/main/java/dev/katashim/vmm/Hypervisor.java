package dev.katashim.vmm;

import dev.katashim.ttrpc.transport.Endpoint;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
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
     * Starts the VMM (or the host agent) for the sandbox whose private directory is
     * {@code sandboxDir}; its sockets, pid file and logs go there. Returns once the VMM runs and
     * can be controlled, not once the guest has booted: the agent dial waits for that.
     */
    void start(Path sandboxDir) throws IOException;

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
