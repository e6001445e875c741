package dev.katashim.shim.task;

import dev.katashim.protocols.containerd.task.v2.DeleteResponse;
import dev.katashim.protocols.containerd.task.v2.StateResponse;
import dev.katashim.protocols.containerd.task.v2.WaitResponse;
import dev.katashim.shim.events.TaskEvents;

/** Task API answers built from our container and process types, so the RPCs stay look-up, delegate, answer. */
final class TaskReplies {
    private TaskReplies() {
    }

    static StateResponse state(Container container, ShimProcess process, int pid) {
        ShimProcess.Snapshot now = process.snapshot();
        StateResponse.Builder state = StateResponse.newBuilder()
                .setId(process.eventId()).setExecId(process.execId()).setBundle(container.bundle().path().toString())
                .setPid(pid).setStatus(now.status())
                .setStdin(process.stdio().stdin()).setStdout(process.stdio().stdout()).setStderr(process.stdio().stderr())
                .setTerminal(process.stdio().terminal());
        now.exit().ifPresent(exit -> state.setExitStatus(exit.status()).setExitedAt(TaskEvents.timestamp(exit.at())));
        return state.build();
    }

    static DeleteResponse deleted(Exit exit, int pid) {
        return DeleteResponse.newBuilder().setExitStatus(exit.status()).setExitedAt(TaskEvents.timestamp(exit.at())).setPid(pid).build();
    }

    static WaitResponse exited(Exit exit) {
        return WaitResponse.newBuilder().setExitStatus(exit.status()).setExitedAt(TaskEvents.timestamp(exit.at())).build();
    }
}
