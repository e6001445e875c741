package dev.katashim.it.shim;

import dev.katashim.it.peers.TaskApiClient;
import dev.katashim.it.support.CommandResult;
import dev.katashim.it.support.CtrEvents;
import dev.katashim.protocols.containerd.task.v2.WaitRequest;
import dev.katashim.protocols.containerd.task.v2.WaitResponse;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static dev.katashim.it.shim.VmPod.VM_DEADLINE;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every kind of process a pod runs (its sandbox container, a member container and an exec in it),
 * each waited for through the Task API from before a fault, as containerd waits: what a fault that
 * ends the sandbox must end, each with its Wait returning and its exit event published.
 */
final class PodProcesses implements AutoCloseable {
    /** A process by its ids in the Task API (exec id empty: a container's init). */
    record Process(String containerId, String execId) {
        /** The id its exit event carries. */
        String eventId() {
            return execId.isEmpty() ? containerId : execId;
        }
    }

    private final VmPod pod;
    private final String member;
    private final TaskApiClient shim;
    private final List<Process> processes;
    private final List<CompletableFuture<WaitResponse>> waits = new ArrayList<>();

    private PodProcesses(VmPod pod, String member, TaskApiClient shim, List<Process> processes) {
        this.pod = pod;
        this.member = member;
        this.shim = shim;
        this.processes = processes;
        for (Process process : processes) {
            WaitRequest request = WaitRequest.newBuilder().setId(process.containerId()).setExecId(process.execId()).build();
            waits.add(CompletableFuture.supplyAsync(() -> {
                try {
                    return shim.call("Wait", request, WaitResponse.parser());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException(e);
                }
            }, Thread::startVirtualThread));
        }
    }

    /** Starts a member and an exec in it beside the pod's sandbox container, and waits for all three. */
    static PodProcesses startIn(VmPod pod) throws IOException {
        String member = pod.startMember("app");
        String exec = pod.containerd.uniqueId("long");
        CommandResult started = pod.ctr("task", "exec", "--detach", "--exec-id", exec, member, "/bin/sleep", "600");
        assertThat(started.exitCode()).as(started.toString()).isZero();
        return new PodProcesses(pod, member, pod.taskApi(),
                List.of(new Process(pod.id, ""), new Process(member, ""), new Process(member, exec)));
    }

    /** Each Wait returned {@code status} within the deadline, and each exit event says so. */
    void assertEachExitedWith(int status, CtrEvents events) throws Exception {
        for (int i = 0; i < processes.size(); i++) {
            Process process = processes.get(i);
            assertThat(waits.get(i).get(VM_DEADLINE.toSeconds(), TimeUnit.SECONDS).getExitStatus()).as("Wait of %s", process).isEqualTo(status);
            CtrEvents.Event exit = events.await("/tasks/exit",
                    e -> e.text("container_id").equals(process.containerId()) && e.text("id").equals(process.eventId()), VM_DEADLINE);
            assertThat(exit.body().path("exit_status").asInt()).as("exit event of %s", process).isEqualTo(status);
        }
        assertThat(pod.taskStatus(pod.id)).isEqualTo("STOPPED");
        assertThat(pod.taskStatus(member)).isEqualTo("STOPPED");
    }

    /** What a user does next: ctr task rm and ctr c rm of the member, then of the sandbox container. */
    void removeContainers(int expectedStatus) {
        for (String container : List.of(member, pod.id)) {
            CommandResult rm = pod.ctr("task", "rm", container);
            assertThat(rm.exitCode()).as(rm.toString()).isZero();
            assertThat(rm.stderr()).contains("exit code " + expectedStatus);
            assertThat(pod.ctr("c", "rm", container).exitCode()).isZero();
        }
    }

    @Override
    public void close() {
        shim.close();
    }
}
