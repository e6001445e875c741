package dev.katashim.shim.events;

import com.google.protobuf.Timestamp;
import dev.katashim.protocols.containerd.events.TaskCreate;
import dev.katashim.protocols.containerd.events.TaskDelete;
import dev.katashim.protocols.containerd.events.TaskExecAdded;
import dev.katashim.protocols.containerd.events.TaskExecStarted;
import dev.katashim.protocols.containerd.events.TaskExit;
import dev.katashim.protocols.containerd.events.TaskIO;
import dev.katashim.protocols.containerd.events.TaskOOM;
import dev.katashim.protocols.containerd.events.TaskPaused;
import dev.katashim.protocols.containerd.events.TaskResumed;
import dev.katashim.protocols.containerd.events.TaskStart;
import dev.katashim.shim.io.StdioSpec;

import java.time.Instant;

/** The task events a shim publishes, by topic, with the fields containerd reads. */
public final class TaskEvents {
    private final Publisher publisher;

    public TaskEvents(Publisher publisher) {
        this.publisher = publisher;
    }

    public static Timestamp timestamp(Instant at) {
        return Timestamp.newBuilder().setSeconds(at.getEpochSecond()).setNanos(at.getNano()).build();
    }

    public void created(String containerId, String bundle, StdioSpec io, int pid) {
        publisher.publish("/tasks/create", TaskCreate.newBuilder().setContainerId(containerId).setBundle(bundle)
                .setIo(TaskIO.newBuilder().setStdin(io.stdin()).setStdout(io.stdout()).setStderr(io.stderr()).setTerminal(io.terminal()))
                .setPid(pid).build());
    }

    public void started(String containerId, int pid) {
        publisher.publish("/tasks/start", TaskStart.newBuilder().setContainerId(containerId).setPid(pid).build());
    }

    public void execAdded(String containerId, String execId) {
        publisher.publish("/tasks/exec-added", TaskExecAdded.newBuilder().setContainerId(containerId).setExecId(execId).build());
    }

    public void execStarted(String containerId, String execId, int pid) {
        publisher.publish("/tasks/exec-started", TaskExecStarted.newBuilder().setContainerId(containerId).setExecId(execId).setPid(pid).build());
    }

    /** {@code id} is the container id for an init process, the exec id for an exec. */
    public void exited(String containerId, String id, int pid, int exitStatus, Instant exitedAt) {
        publisher.publish("/tasks/exit", TaskExit.newBuilder().setContainerId(containerId).setId(id).setPid(pid)
                .setExitStatus(exitStatus).setExitedAt(timestamp(exitedAt)).build());
    }

    public void deleted(String containerId, int pid, int exitStatus, Instant exitedAt) {
        publisher.publish("/tasks/delete", TaskDelete.newBuilder().setContainerId(containerId).setPid(pid)
                .setExitStatus(exitStatus).setExitedAt(timestamp(exitedAt)).setId(containerId).build());
    }

    public void paused(String containerId) {
        publisher.publish("/tasks/paused", TaskPaused.newBuilder().setContainerId(containerId).build());
    }

    public void resumed(String containerId) {
        publisher.publish("/tasks/resumed", TaskResumed.newBuilder().setContainerId(containerId).build());
    }

    public void oom(String containerId) {
        publisher.publish("/tasks/oom", TaskOOM.newBuilder().setContainerId(containerId).build());
    }
}
