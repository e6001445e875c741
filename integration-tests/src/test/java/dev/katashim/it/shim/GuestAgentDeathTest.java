package dev.katashim.it.shim;

import dev.katashim.it.support.CtrEvents;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static dev.katashim.it.shim.VmPod.VM_DEADLINE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The guest agent dies inside a running VM: every process of the pod exits 255 (nobody is left to
 * say how they ended), each Wait returns, the sandbox is torn down and nothing stays on the host.
 * The agent is killed for real, the way a guest loses it: the guest kernel's OOM killer, asked
 * through /proc/sysrq-trigger from a privileged container, takes the biggest process, the agent's
 * JVM (the containers run busybox). The image's /init then powers the VM off.
 */
class GuestAgentDeathTest {
    @Test
    void everyProcessExits255TheSandboxIsTornDownAndNothingIsLeft(@TempDir Path dir) throws Exception {
        try (VmPod pod = VmPod.start(dir, "--privileged");
             CtrEvents events = CtrEvents.start(pod.containerd, VM_DEADLINE);
             PodProcesses processes = PodProcesses.startIn(pod)) {
            // the exec that asks may itself end with the agent: its own outcome is not the point
            pod.exec(pod.id, "echo f > /proc/sysrq-trigger");

            processes.assertEachExitedWith(255, events);
            // the shim logs it as it tears the sandbox down, after the exits; containerd copies it into its log
            await().atMost(SandboxLeftovers.TEARDOWN_DEADLINE).untilAsserted(() -> assertThat(pod.containerd.log())
                    .contains("sandbox " + pod.id + " ended on its own").contains("the agent killed by signal 9"));
            processes.removeContainers(255);
            SandboxLeftovers.assertNone(pod.containerd, pod.id);
        }
    }
}
