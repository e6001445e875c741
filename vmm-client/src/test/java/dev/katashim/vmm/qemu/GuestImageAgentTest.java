package dev.katashim.vmm.qemu;

import dev.katashim.protocols.kata.agent.CheckRequest;
import dev.katashim.protocols.kata.agent.HealthCheckResponse;
import dev.katashim.ttrpc.client.CallOptions;
import dev.katashim.ttrpc.client.TtrpcClient;
import dev.katashim.vmm.qemu.QemuConfig.Accelerator;
import dev.katashim.vmm.qemu.QemuConfig.GuestRoot;
import dev.katashim.vmm.qemu.QemuConfig.SharedFs;
import dev.katashim.vmm.testing.Console;
import dev.katashim.vmm.testing.TestSandboxes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Optional: boots the project's guest image ({@code build/guest/}, made by
 * {@code scripts/build-guest-image}) and asks the agent inside for its health over the
 * virtio-serial channel. Opt-in ({@code -Dvmm.guestImage=true}): it boots a JVM under TCG and
 * depends on the guest-agent module's state; skipped when the image has not been built.
 */
@ExtendWith(TestSandboxes.class)
@EnabledIfSystemProperty(named = "vmm.guestImage", matches = "true",
        disabledReason = "opt-in: -Dvmm.guestImage=true boots build/guest/ (a JVM under TCG, about 10-20 s when it works)")
class GuestImageAgentTest {
    private static final Logger log = LoggerFactory.getLogger(GuestImageAgentTest.class);
    private static final Path GUEST = Path.of(System.getProperty("user.dir")).getParent().resolve("build/guest");

    @Test
    void theAgentInTheGuestImageAnswersItsHealthCheck() throws Exception {
        Path kernel = GUEST.resolve("vmlinuz");
        Path initrd = GUEST.resolve("initramfs.img");
        assumeTrue(Files.isRegularFile(kernel) && Files.isRegularFile(initrd),
                "no guest image at " + GUEST + " (build it with scripts/build-guest-image)");
        Path dir = TestSandboxes.newSandbox("image");
        Path shared = Files.createDirectories(dir.resolve("shared"));
        QemuConfig config = QemuConfig.of(kernel, new GuestRoot.Initrd(initrd)).withMemoryMiB(1024)
                .withAccelerator(Accelerator.TCG).withSharedFs(SharedFs.NINE_P, shared);
        QemuHypervisor vm = new QemuHypervisor(config, new AcceleratorMemory(dir.resolve("memory")), Duration.ofSeconds(30));
        try {
            long start = System.nanoTime();
            vm.start(dir);
            // the request waits in the channel until the agent opens its port, so one call with a long deadline suffices
            try (TtrpcClient client = TtrpcClient.connect(vm.agentEndpoint())) {
                HealthCheckResponse health;
                try {
                    health = client.blockingCall("grpc.Health", "Check", CheckRequest.getDefaultInstance(),
                            HealthCheckResponse.parser(), CallOptions.timeout(Duration.ofSeconds(90)));
                } catch (RuntimeException e) {
                    String console = Console.read(dir.resolve("console.log"));
                    throw new AssertionError("no health answer from the agent on " + vm.agentEndpoint() + " (" + e.getMessage()
                            + "); the console " + dir.resolve("console.log") + " ends with:\n"
                            + console.substring(Math.max(0, console.length() - 3000)), e);
                }
                log.info("guest image: agent healthy {} ms after start", (System.nanoTime() - start) / 1_000_000);
                assertThat(health.getStatus()).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
            }
        } finally {
            vm.stop(Duration.ofSeconds(5));
        }
    }
}
