package dev.katashim.vmm.qemu;

import dev.katashim.vmm.qemu.AcceleratorDecision.Source;
import dev.katashim.vmm.qemu.QemuConfig.Accelerator;
import dev.katashim.vmm.qemu.QemuConfig.GuestRoot;
import dev.katashim.vmm.testing.TestInitramfs;
import dev.katashim.vmm.testing.TestKernel;
import dev.katashim.vmm.testing.TestSandboxes;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The accelerator is decided by trying KVM, not by /dev/kvm existing, and the outcome is remembered
 * per host. On the build machines /dev/kvm exists but cannot run a guest (QEMU aborts setting MSRs,
 * or the guest gets stuck on an instruction KVM fails to emulate): the first sandbox falls back to
 * TCG, the next one goes straight to TCG. The VMs here are stopped as soon as QEMU
 * is controllable; no boot is needed to decide.
 */
@ExtendWith(TestSandboxes.class)
class AcceleratorFallbackTest {
    private static final Logger log = LoggerFactory.getLogger(AcceleratorFallbackTest.class);
    private static QemuConfig config;

    @BeforeAll
    static void guest() throws Exception {
        TestKernel kernel = TestKernel.get();
        Path initrd = TestInitramfs.build(TestSandboxes.newSandbox("initrd").resolve("initramfs.img"), kernel, "sleep 3600");
        config = QemuConfig.of(kernel.vmlinuz(), new GuestRoot.Initrd(initrd)).withMemoryMiB(256);
    }

    @Test
    void kvmIsTriedOnceAndTheOutcomeRemembered() throws Exception {
        Path memoryDir = TestSandboxes.newSandbox("memory");
        AcceleratorMemory memory = new AcceleratorMemory(memoryDir);

        QemuHypervisor first = new QemuHypervisor(config, memory, Duration.ofSeconds(30));
        long t0 = System.nanoTime();
        AcceleratorDecision firstDecision;
        try {
            first.start(TestSandboxes.newSandbox("first"));
            firstDecision = first.acceleratorDecision();
        } finally {
            first.stop(Duration.ZERO);
        }
        long firstMs = (System.nanoTime() - t0) / 1_000_000;

        QemuHypervisor second = new QemuHypervisor(config, memory, Duration.ofSeconds(30));
        long t1 = System.nanoTime();
        AcceleratorDecision secondDecision;
        try {
            second.start(TestSandboxes.newSandbox("second"));
            secondDecision = second.acceleratorDecision();
        } finally {
            second.stop(Duration.ZERO);
        }
        long secondMs = (System.nanoTime() - t1) / 1_000_000;
        log.info("first sandbox: {} in {} ms; second: {} in {} ms", firstDecision, firstMs, secondDecision, secondMs);

        if (!Files.exists(QemuHypervisor.KVM_DEVICE)) {
            assertThat(firstDecision.source()).isEqualTo(Source.NO_KVM_DEVICE);
            assertThat(firstDecision.accelerator()).isEqualTo(Accelerator.TCG);
            return;
        }
        assertThat(firstDecision.source()).isEqualTo(Source.PROBED);
        assertThat(memory.recall(config.qemu())).get()
                .extracting(AcceleratorMemory.Remembered::accelerator).isEqualTo(firstDecision.accelerator());
        assertThat(secondDecision.source()).isEqualTo(Source.REMEMBERED);
        assertThat(secondDecision.accelerator()).isEqualTo(firstDecision.accelerator());
        if (firstDecision.accelerator() == Accelerator.TCG) {
            // this host: QEMU accepted -accel kvm, then failed or got stuck; the reason says how
            assertThat(firstDecision.reason()).startsWith("KVM failed: ")
                    .containsAnyOf("with -accel kvm", "insn_emulation_fail", "did not get going");
        }
    }

    @Test
    void aConfiguredKvmThatCannotStartAGuestFailsWithQemusStderr() throws Exception {
        AcceleratorMemory memory = new AcceleratorMemory(TestSandboxes.newSandbox("memory"));
        QemuHypervisor probe = new QemuHypervisor(config, memory, Duration.ofSeconds(30));
        try {
            probe.start(TestSandboxes.newSandbox("probe"));
        } finally {
            probe.stop(Duration.ZERO);
        }
        assumeTrue(probe.acceleratorDecision().source() == Source.PROBED
                        && probe.acceleratorDecision().accelerator() == Accelerator.TCG,
                "KVM starts guests on this host (or there is no /dev/kvm): no KVM failure to observe");

        QemuHypervisor kvm = new QemuHypervisor(config.withAccelerator(Accelerator.KVM), memory, Duration.ofSeconds(30));
        try {
            assertThatThrownBy(() -> kvm.start(TestSandboxes.newSandbox("kvm")))
                    .isInstanceOf(QemuStartException.class)
                    .hasMessageContaining("QEMU " + config.qemu() + " failed to start a guest with the configured accelerator kvm")
                    .hasMessageContaining("qemu.log")
                    // what went wrong: QEMU's own stderr ("failed to set MSR"), or what the probe saw
                    .hasMessageContaining(probe.acceleratorDecision().reason().replaceFirst("^KVM failed: ", "").replaceFirst(" \\(.*", ""));
        } finally {
            kvm.stop(Duration.ZERO);
        }
    }

    @Test
    void tcgConfiguredIsUsedWithoutTryingKvm() throws Exception {
        AcceleratorMemory memory = new AcceleratorMemory(TestSandboxes.newSandbox("memory"));
        QemuHypervisor vm = new QemuHypervisor(config.withAccelerator(Accelerator.TCG), memory, Duration.ofSeconds(30));
        try {
            vm.start(TestSandboxes.newSandbox("tcg"));
            assertThat(vm.acceleratorDecision().source()).isEqualTo(Source.CONFIGURED);
            assertThat(vm.commandLine()).containsSubsequence("-accel", "tcg,tb-size=64").containsSubsequence("-cpu", "max");
            assertThat(memory.recall(config.qemu())).isEmpty();
        } finally {
            vm.stop(Duration.ZERO);
        }
    }
}
