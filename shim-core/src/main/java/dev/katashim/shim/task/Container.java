package dev.katashim.shim.task;

import dev.katashim.protocols.containerd.types.task.Status;
import dev.katashim.protocols.kata.agent.LinuxResources;
import dev.katashim.protocols.kata.agent.Process;
import dev.katashim.shim.io.IoContext;
import dev.katashim.shim.io.ProcessIo;
import dev.katashim.shim.io.StdioSpec;
import dev.katashim.shim.oci.Bundle;
import dev.katashim.shim.oci.ContainerType;
import dev.katashim.shim.sandbox.Sandbox;
import dev.katashim.ttrpc.status.StatusCode;
import dev.katashim.ttrpc.status.TtrpcException;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/** A container of the sandbox: its bundle, its init process, its execs by containerd exec id. */
final class Container {
    private final String id;
    private final Bundle bundle;
    private final ContainerType type;
    private final ShimProcess init;
    private final Map<String, ShimProcess> execs = new ConcurrentHashMap<>();

    private Container(String id, Bundle bundle, ContainerType type, ShimProcess init) {
        this.id = id;
        this.bundle = bundle;
        this.type = type;
        this.init = init;
    }

    /** Opens its stdio and creates it in the sandbox (root filesystem shared, agent's CreateContainer); undone on failure. */
    static Container create(NewTask task, Sandbox sandbox, String namespace) throws Exception {
        ProcessIo io = ShimProcess.openIo(task.stdio(), new IoContext(namespace, task.id()));
        try {
            sandbox.createContainer(task.id(), task.bundle(), task.rootfs());
        } catch (Exception e) {
            io.close();
            throw e;
        }
        return new Container(task.id(), task.bundle(), task.type(), ShimProcess.init(task.id(), task.stdio(), io));
    }

    String id() {
        return id;
    }

    Bundle bundle() {
        return bundle;
    }

    /** Whether this container's sandbox ends with it (a pod's sandbox container, or a single container). */
    boolean ownsSandbox() {
        return type.startsSandbox();
    }

    ShimProcess init() {
        return init;
    }

    /** {@code execId} empty: the init. */
    ShimProcess process(String execId) {
        if (execId.isEmpty()) {
            return init;
        }
        ShimProcess exec = execs.get(execId);
        if (exec == null) {
            throw TtrpcException.of(StatusCode.NOT_FOUND, "exec does not exist %s: not found", execId);
        }
        return exec;
    }

    /** Every process, the init first. */
    List<ShimProcess> processes() {
        List<ShimProcess> all = new ArrayList<>(1 + execs.size());
        all.add(init);
        all.addAll(execs.values());
        return all;
    }

    /** Kill with {@code all}: the init and every exec still running get the signal. */
    void killAll(Sandbox sandbox, int signal) throws Exception {
        init.kill(sandbox, signal);
        for (ShimProcess exec : execs.values()) {
            if (exec.isAlive()) {
                exec.kill(sandbox, signal);
            }
        }
    }

    /** New resource limits for its cgroup in the guest, while it is created or running, as upstream. */
    void update(Sandbox sandbox, LinuxResources resources) throws Exception {
        Status status = init.status();
        if (status != Status.RUNNING && status != Status.CREATED && status != Status.PAUSED) {
            throw TtrpcException.of(StatusCode.FAILED_PRECONDITION, "container %s is %s: not running or ready, impossible to update", id, status);
        }
        sandbox.updateContainer(id, resources);
    }

    /** Adds an exec, not started yet; its stdio is opened now, as upstream. */
    ShimProcess addExec(String execId, StdioSpec stdio, Process process, String namespace) {
        if (execs.containsKey(execId)) {
            throw TtrpcException.of(StatusCode.ALREADY_EXISTS, "id %s: already exists", execId);
        }
        Status status = init.status();
        if (status != Status.RUNNING) {
            throw TtrpcException.of(StatusCode.FAILED_PRECONDITION, "container %s is %s: cannot exec into it", id, status);
        }
        ProcessIo io = ShimProcess.openIo(stdio, new IoContext(namespace, id).forExec(execId));
        ShimProcess exec = ShimProcess.exec(id, execId, UUID.randomUUID().toString(), stdio, process, io);
        execs.put(execId, exec);
        return exec;
    }

    /** Removes a stopped (or never started) exec; how it ended. */
    Exit deleteExec(String execId) {
        ShimProcess exec = process(execId);
        if (exec.status() == Status.RUNNING) {
            throw TtrpcException.of(StatusCode.FAILED_PRECONDITION, "exec %s is still running", execId);
        }
        execs.remove(execId);
        return exec.close(new Exit(Exit.UNKNOWN_STATUS, Instant.now()));
    }

    /** Removes it from the sandbox (null: none left) once it is not running; how its init ended. */
    Exit delete(Sandbox sandbox) throws Exception {
        Status status = init.status();
        if (status == Status.RUNNING || status == Status.PAUSED) {
            throw TtrpcException.of(StatusCode.FAILED_PRECONDITION, "container %s is %s: kill it before deleting it", id, status);
        }
        if (sandbox != null) {
            sandbox.deleteContainer(id);
        }
        execs.values().forEach(e -> e.close(null));
        return init.close(new Exit(0, Instant.now()));
    }
}
