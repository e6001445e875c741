package dev.katashim.shim.task;

import dev.katashim.shim.sandbox.Sandbox;
import dev.katashim.ttrpc.status.StatusCode;
import dev.katashim.ttrpc.status.TtrpcException;

/**
 * The one sandbox a shim serves (a pod is one shim and one VM): empty until the pod's first
 * container, or the Sandbox API, opens it. Reads take no lock, so State and Wait answer while a
 * Create is booting; the Task service fills and clears it under its own lock.
 */
final class SandboxSlot {
    private volatile Sandbox sandbox;
    /** Opened by the Sandbox API (containerd's shim sandboxer), which also decides when it ends. */
    private volatile boolean byApi;

    void requireEmpty() {
        Sandbox current = sandbox;
        if (current != null) {
            throw TtrpcException.of(StatusCode.ALREADY_EXISTS, "cannot create another sandbox in sandbox: %s", current.id());
        }
    }

    void fill(Sandbox opened, boolean openedByApi) {
        requireEmpty();
        byApi = openedByApi;
        sandbox = opened;
    }

    void clear() {
        sandbox = null;
    }

    /** The sandbox, or null before it is opened and after shutdown. */
    Sandbox current() {
        return sandbox;
    }

    Sandbox require() {
        Sandbox current = sandbox;
        if (current == null) {
            throw TtrpcException.of(StatusCode.FAILED_PRECONDITION, "BUG: Cannot start the container, since the sandbox hasn't been created");
        }
        return current;
    }

    boolean openedByApi() {
        return byApi;
    }

    /** Every task of the sandbox reports the hypervisor's pid, as upstream; 0 without a sandbox. */
    int pid() {
        Sandbox current = sandbox;
        return current == null ? 0 : current.pid();
    }
}
