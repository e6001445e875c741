package dev.katashim.shim.task;

import dev.katashim.protocols.containerd.types.task.Status;
import dev.katashim.shim.io.ProcessIo;
import dev.katashim.shim.io.StdioSpec;

import java.util.concurrent.CompletableFuture;

/**
 * A process containerd knows: a container's init ({@code execId} "") or an exec. The agent knows
 * it as {@code (containerId, agentExecId)}: the container id for init, a fresh UUID for an exec.
 * Guarded by the task service's lock, except {@link #exit} which waiters block on.
 */
final class ShimProcess {
    final String containerId;
    final String execId;
    final String agentExecId;
    final StdioSpec stdio;
    final CompletableFuture<Exit> exit = new CompletableFuture<>();
    Status status = Status.CREATED;
    ProcessIo io;
    /** For an exec: its OCI process, kept from Exec until Start. */
    final dev.katashim.protocols.kata.agent.Process spec;

    ShimProcess(String containerId, String execId, String agentExecId, StdioSpec stdio,
                dev.katashim.protocols.kata.agent.Process spec) {
        this.containerId = containerId;
        this.execId = execId;
        this.agentExecId = agentExecId;
        this.stdio = stdio;
        this.spec = spec;
    }

    boolean isInit() {
        return execId.isEmpty();
    }

    /** The id events and State use: the container id for init, the exec id for an exec. */
    String eventId() {
        return isInit() ? containerId : execId;
    }

    Exit exitOrNull() {
        return exit.isDone() ? exit.join() : null;
    }
}
