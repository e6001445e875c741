package dev.katashim.vmm.qemu;

import dev.katashim.vmm.qemu.QemuConfig.Accelerator;
import dev.katashim.vmm.qemu.QemuConfig.GuestRoot;
import dev.katashim.vmm.qemu.QemuConfig.SharedFs;
import dev.katashim.vmm.testing.Console;
import dev.katashim.vmm.testing.TestInitramfs;
import dev.katashim.vmm.testing.TestKernel;
import dev.katashim.vmm.testing.TestSandboxes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The shared directory over virtio-fs: virtiofsd plus a shared memfd memory backend. */
@ExtendWith(TestSandboxes.class)
class VirtioFsTest {

    @Test
    void theGuestMountsTheShareAndTheHostSeesItsFile() throws Exception {
        assumeTrue(Files.isExecutable(QemuConfig.DEFAULT_VIRTIOFSD), QemuConfig.DEFAULT_VIRTIOFSD + " is not installed");
        TestKernel kernel = TestKernel.get();
        Path dir = TestSandboxes.newSandbox("virtiofs");
        Path shared = Files.createDirectories(dir.resolve("shared"));
        Files.writeString(shared.resolve("from-host"), "host\n");
        Path initrd = TestInitramfs.build(dir.resolve("initramfs.img"), kernel, """
                mount -t virtiofs kataShared /mnt && cat /mnt/from-host && echo guest > /mnt/from-guest && sync && echo VIRTIOFS-OK
                sleep 3600
                """);
        QemuConfig config = QemuConfig.of(kernel.vmlinuz(), new GuestRoot.Initrd(initrd)).withMemoryMiB(256)
                .withAccelerator(Accelerator.TCG).withSharedFs(SharedFs.VIRTIO_FS, shared);
        QemuHypervisor vm = new QemuHypervisor(config, new AcceleratorMemory(dir.resolve("memory")), Duration.ofSeconds(30));
        try {
            vm.start(dir);
            assertThat(vm.commandLine()).anyMatch(a -> a.startsWith("memory-backend-memfd,id=mem,"))
                    .anyMatch(a -> a.startsWith("vhost-user-fs-pci,"));
            Console.await(dir.resolve("console.log"), "VIRTIOFS-OK", Duration.ofSeconds(90));
            assertThat(Console.read(dir.resolve("console.log"))).contains("host");
            assertThat(Files.readString(shared.resolve("from-guest"))).isEqualTo("guest\n");
        } finally {
            vm.stop(Duration.ofSeconds(5));
        }
        assertThat(TestSandboxes.leftovers()).as("virtiofsd and QEMU are gone").isEmpty();
    }
}
