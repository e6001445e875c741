package dev.katashim.it.shim;

import dev.katashim.it.peers.TaskApiClient;
import dev.katashim.it.support.BackgroundCommand;
import dev.katashim.it.support.CommandResult;
import dev.katashim.it.support.CtrEvents;
import dev.katashim.it.support.Processes;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static dev.katashim.it.shim.VmPod.VM_DEADLINE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Faults on the host side of a running VM sandbox, one after the other in one pod VM: containerd
 * restarted (the shim and its VM carry on; the restarted containerd finds the tasks and drives a
 * member to its end), then the shim killed with SIGKILL (QEMU must die with it, and containerd's
 * cleanup leave nothing).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class HostSideFaultsTest {
    /** How long QEMU may take to follow its shim: the kernel sends the parent-death signal at once. */
    private static final Duration QEMU_FOLLOWS_SHIM = Duration.ofSeconds(30);
    private static VmPod pod;

    @BeforeAll
    static void startAPod(@TempDir Path dir) {
        pod = VmPod.start(dir);
    }

    @AfterAll
    static void stop() {
        if (pod != null) {
            pod.close();
        }
    }

    @Test
    @Order(1)
    void containerdRestartedWhileVmContainersRunStillDrivesThemToTheirEnd() throws Exception {
        String member = pod.startMember("app");
        long before = pod.containerd.pid();
        pod.containerd.restart();
        assertThat(pod.containerd.pid()).isNotEqualTo(before);

        assertThat(pod.taskStatus(pod.id)).isEqualTo("RUNNING");
        assertThat(pod.taskStatus(member)).isEqualTo("RUNNING");
        CommandResult exec = pod.exec(member, "echo after the restart");
        assertThat(exec.stdout()).as(exec + "\n" + pod.containerd.log()).isEqualTo("after the restart\n");
        try (CtrEvents events = CtrEvents.start(pod.containerd, VM_DEADLINE);
             BackgroundCommand waiting = pod.containerd.ctrInBackground("task", "attach", member)) {
            CommandResult kill = pod.ctr("task", "kill", "-s", "KILL", member);
            assertThat(kill.exitCode()).as(kill.toString()).isZero();
            // ctr task attach waits through containerd's Wait, exits as the task did and deletes it
            assertThat(waiting.awaitExit(VM_DEADLINE)).as(waiting.toString()).isEqualTo(137);
            CtrEvents.Event exit = events.await("/tasks/exit", e -> e.text("container_id").equals(member), VM_DEADLINE);
            assertThat(exit.body().path("exit_status").asInt()).isEqualTo(137);
            CtrEvents.Event deleted = events.await("/tasks/delete", e -> e.text("container_id").equals(member), VM_DEADLINE);
            assertThat(deleted.body().path("exit_status").asInt()).isEqualTo(137);
        }
        assertThat(pod.taskStatus(member)).isEqualTo("GONE");
        assertThat(pod.ctr("c", "rm", member).exitCode()).isZero();
        assertThat(pod.exec(pod.id, "echo still here").stdout()).isEqualTo("still here\n");
    }

    @Test
    @Order(2)
    void theShimKilledTakesQemuWithItAndRmLeavesNothing() throws Exception {
        try (CtrEvents events = CtrEvents.start(pod.containerd, VM_DEADLINE)) {
            long qemu = pod.hypervisorPid();
            long shim;
            try (TaskApiClient api = pod.taskApi()) {
                shim = api.connect(pod.id).getShimPid();
            }
            assertThat(ProcessHandle.of(shim).orElseThrow().destroyForcibly()).isTrue(); // SIGKILL
            assertThat(Processes.awaitGone(List.of(shim, qemu), QEMU_FOLLOWS_SHIM)).as("the shim and QEMU still running").isEmpty();

            // containerd learns of it from the shim's connection: it runs the shim's delete, publishes the
            // exit (137, as upstream's delete reports) and drops the task
            CtrEvents.Event exit = events.await("/tasks/exit", e -> e.text("container_id").equals(pod.id), VM_DEADLINE);
            assertThat(exit.body().path("exit_status").asInt()).isEqualTo(137);
            await().atMost(VM_DEADLINE).until(() -> pod.taskStatus(pod.id).equals("GONE"));
            CommandResult rm = pod.ctr("task", "rm", "-f", pod.id);
            assertThat(rm.stderr()).as("what ctr task rm -f says of a task already cleaned up").contains("not found");
            CommandResult crm = pod.ctr("c", "rm", pod.id);
            assertThat(crm.exitCode()).as(crm.toString()).isZero();
            SandboxLeftovers.assertNone(pod.containerd, pod.id);
        }
    }
}
