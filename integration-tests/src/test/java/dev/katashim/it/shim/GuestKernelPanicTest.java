package dev.katashim.it.shim;

import dev.katashim.it.support.CtrEvents;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static dev.katashim.it.shim.VmPod.VM_DEADLINE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The guest kernel panics (for real: {@code echo c > /proc/sysrq-trigger} from a privileged
 * container): the guest's pvpanic-pci driver tells QEMU (QMP GUEST_PANICKED), every process of the
 * pod exits 255, the shim's log (containerd's) names the panic and keeps the console log, the
 * sandbox is torn down and nothing stays on the host.
 */
class GuestKernelPanicTest {
    @Test
    void everyProcessExits255TheLogNamesThePanicAndNothingIsLeft(@TempDir Path dir) throws Exception {
        try (VmPod pod = VmPod.start(dir, "--privileged");
             CtrEvents events = CtrEvents.start(pod.containerd, VM_DEADLINE);
             PodProcesses processes = PodProcesses.startIn(pod)) {
            pod.exec(pod.id, "echo c > /proc/sysrq-trigger");

            processes.assertEachExitedWith(255, events);
            // the shim logs the end as it tears the sandbox down, after the exits; containerd copies it into its log
            await().atMost(SandboxLeftovers.TEARDOWN_DEADLINE).untilAsserted(() -> assertThat(pod.containerd.log())
                    .contains("sandbox " + pod.id + ": the guest kernel panicked (QEMU reported GUEST_PANICKED")
                    .contains("sandbox " + pod.id + " ended on its own: a guest kernel panic"));
            try (Stream<Path> kept = Files.list(pod.containerd.keptConsoleLogs())) {
                Path console = kept.filter(p -> p.getFileName().toString().startsWith(pod.id)).findFirst().orElseThrow();
                assertThat(console).content().contains("Kernel panic - not syncing: sysrq triggered crash");
            }
            processes.removeContainers(255);
            SandboxLeftovers.assertNone(pod.containerd, pod.id);
        }
    }
}
