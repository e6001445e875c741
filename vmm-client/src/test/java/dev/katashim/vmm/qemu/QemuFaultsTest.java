package dev.katashim.vmm.qemu;

import dev.katashim.vmm.FatalSignals;
import dev.katashim.vmm.Signal;
import dev.katashim.vmm.VmmExit;
import dev.katashim.vmm.qemu.QemuConfig.Accelerator;
import dev.katashim.vmm.qemu.QemuConfig.GuestRoot;
import dev.katashim.vmm.qemu.QemuConfig.ImageDevice;
import dev.katashim.vmm.testing.Commands;
import dev.katashim.vmm.testing.TestInitramfs;
import dev.katashim.vmm.testing.TestKernel;
import dev.katashim.vmm.testing.TestSandboxes;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Real faults: QEMU killed with real signals ({@code kill -KILL}, {@code -SEGV}, {@code -BUS},
 * {@code -SYS}), files that are missing, a QEMU that refuses its command line. The killed VMs need
 * no booted guest, only a running QEMU (TCG, so no KVM attempt is paid for).
 */
@ExtendWith(TestSandboxes.class)
class QemuFaultsTest {
    private static TestKernel kernel;
    private static QemuConfig config;

    @BeforeAll
    static void guest() throws Exception {
        kernel = TestKernel.get();
        Path initrd = TestInitramfs.build(TestSandboxes.newSandbox("initrd").resolve("initramfs.img"), kernel, "sleep 3600");
        config = QemuConfig.of(kernel.vmlinuz(), new GuestRoot.Initrd(initrd)).withMemoryMiB(256).withAccelerator(Accelerator.TCG);
    }

    private static QemuHypervisor started(String name) throws Exception {
        QemuHypervisor vm = new QemuHypervisor(config, new AcceleratorMemory(TestSandboxes.newSandbox("memory")), Duration.ofSeconds(30));
        vm.start(TestSandboxes.newSandbox(name));
        return vm;
    }

    private static void kill(String signal, long pid) throws Exception {
        Commands.run(Path.of("/"), List.of("kill", "-" + signal, Long.toString(pid)));
    }

    @Test
    void killMinus9CompletesExitedWith137AndCountsNoSignal() throws Exception {
        QemuHypervisor vm = started("kill9");
        try {
            kill("KILL", vm.pid());
            assertThat(vm.exited().get(10, TimeUnit.SECONDS)).isEqualTo(137);
            assertThat(vm.exit()).contains(new VmmExit.Killed(Signal.SIGKILL));
            assertThat(vm.metrics().fatalSignals()).isEqualTo(FatalSignals.NONE);
            assertThat(vm.metrics().pid()).isZero();
        } finally {
            vm.stop(Duration.ofSeconds(2));
        }
    }

    @Test
    void killSegvCountsOneSigsegv() throws Exception {
        QemuHypervisor vm = started("segv");
        try {
            kill("SEGV", vm.pid());
            assertThat(vm.exited().get(30, TimeUnit.SECONDS)).isEqualTo(128 + 11);
            assertThat(vm.metrics().fatalSignals()).isEqualTo(new FatalSignals(0, 1, 0));
        } finally {
            vm.stop(Duration.ofSeconds(2));
        }
    }

    @Test
    void killBusCountsOneSigbus() throws Exception {
        QemuHypervisor vm = started("bus");
        try {
            kill("BUS", vm.pid());
            assertThat(vm.exited().get(30, TimeUnit.SECONDS)).isEqualTo(128 + 7);
            assertThat(vm.metrics().fatalSignals()).isEqualTo(new FatalSignals(1, 0, 0));
        } finally {
            vm.stop(Duration.ofSeconds(2));
        }
    }

    /** SIGSYS is what a seccomp violation kills QEMU with; sent here by kill, it is counted the same way. */
    @Test
    void killSysCountsOneSeccompFault() throws Exception {
        QemuHypervisor vm = started("sys");
        try {
            kill("SYS", vm.pid());
            assertThat(vm.exited().get(30, TimeUnit.SECONDS)).isEqualTo(128 + 31);
            assertThat(vm.metrics().fatalSignals().seccompFaults()).isEqualTo(1);
        } finally {
            vm.stop(Duration.ofSeconds(2));
        }
    }

    @Test
    void stopWithGraceZeroKills() throws Exception {
        QemuHypervisor vm = started("stop0");
        long pid = vm.pid();
        vm.stop(Duration.ZERO);
        assertThat(vm.exited()).isCompletedWithValue(137);
        assertThat(ProcessHandle.of(pid).filter(ProcessHandle::isAlive)).isEmpty();
    }

    @Test
    void missingKernelIsNamed() throws Exception {
        Path missing = Path.of("/nonexistent/vmlinuz-test");
        QemuHypervisor vm = new QemuHypervisor(QemuConfig.of(missing, config.root()));
        assertThatThrownBy(() -> vm.start(TestSandboxes.newSandbox("nokernel")))
                .isInstanceOf(NoSuchFileException.class)
                .hasMessageContaining(missing.toString()).hasMessageContaining("guest kernel");
        assertThat(vm.pid()).isZero();
    }

    @Test
    void missingInitrdIsNamed() throws Exception {
        Path missing = Path.of("/nonexistent/initrd-test.img");
        QemuHypervisor vm = new QemuHypervisor(QemuConfig.of(kernel.vmlinuz(), new GuestRoot.Initrd(missing)));
        assertThatThrownBy(() -> vm.start(TestSandboxes.newSandbox("noinitrd")))
                .isInstanceOf(NoSuchFileException.class)
                .hasMessageContaining(missing.toString()).hasMessageContaining("initrd");
    }

    @Test
    void missingImageIsNamed() throws Exception {
        Path missing = Path.of("/nonexistent/rootfs-test.img");
        QemuHypervisor vm = new QemuHypervisor(QemuConfig.of(kernel.vmlinuz(),
                new GuestRoot.Image(missing, ImageDevice.VIRTIO_PMEM, "ext4", Optional.empty())));
        assertThatThrownBy(() -> vm.start(TestSandboxes.newSandbox("noimage")))
                .isInstanceOf(NoSuchFileException.class)
                .hasMessageContaining(missing.toString()).hasMessageContaining("image");
    }

    @Test
    void missingBootInitrdOfAnImageIsNamed() throws Exception {
        Path image = Files.write(TestSandboxes.newSandbox("image").resolve("root.img"), new byte[2 << 20]);
        Path missing = Path.of("/nonexistent/boot-initramfs.img");
        QemuHypervisor vm = new QemuHypervisor(QemuConfig.of(kernel.vmlinuz(),
                new GuestRoot.Image(image, ImageDevice.VIRTIO_PMEM, "ext4", Optional.of(missing))));
        assertThatThrownBy(() -> vm.start(TestSandboxes.newSandbox("nobootinitrd")))
                .isInstanceOf(NoSuchFileException.class)
                .hasMessageContaining(missing.toString()).hasMessageContaining("initrd that mounts the image");
    }

    @Test
    void aPmemImageThatIsNoWholeNumberOf2MiBIsRefusedBeforeQemuStarts() throws Exception {
        Path image = Files.write(TestSandboxes.newSandbox("oddimage").resolve("root.img"), new byte[(2 << 20) + 512]);
        QemuHypervisor vm = new QemuHypervisor(QemuConfig.of(kernel.vmlinuz(),
                new GuestRoot.Image(image, ImageDevice.VIRTIO_PMEM, "ext4", Optional.empty())));
        assertThatThrownBy(() -> vm.start(TestSandboxes.newSandbox("oddpmem")))
                .isInstanceOf(IOException.class)
                .hasMessageContaining(image.toString()).hasMessageContaining("multiple of 2 MiB")
                .hasMessageContaining("virtio-blk-pci");
    }

    @Test
    void missingQemuBinaryIsNamed() throws Exception {
        Path missing = Path.of("/nonexistent/qemu-system-x86_64");
        QemuHypervisor vm = new QemuHypervisor(config.withQemu(missing));
        assertThatThrownBy(() -> vm.start(TestSandboxes.newSandbox("noqemu")))
                .isInstanceOf(NoSuchFileException.class)
                .hasMessageContaining(missing.toString()).hasMessageContaining("QEMU binary");
    }

    @Test
    void qemuRefusingToStartReportsItsStderr() throws Exception {
        QemuHypervisor vm = new QemuHypervisor(config.withMachineType("pc-i440fx-0.1"),
                new AcceleratorMemory(TestSandboxes.newSandbox("memory")), Duration.ofSeconds(30));
        assertThatThrownBy(() -> vm.start(TestSandboxes.newSandbox("badmachine")))
                .isInstanceOf(QemuStartException.class)
                .hasMessageContaining("failed to start")
                .hasMessageContaining("unsupported machine type"); // QEMU's stderr
        assertThat(vm.pid()).isZero();
    }
}
