package dev.katashim.vmm.qemu;

import dev.katashim.vmm.qemu.QemuConfig.Accelerator;
import dev.katashim.vmm.qemu.QemuConfig.GuestRoot;
import dev.katashim.vmm.qemu.QemuConfig.ImageDevice;
import dev.katashim.vmm.qemu.QemuConfig.SharedFs;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class QemuCommandLineTest {
    private static final SandboxFiles FILES = new SandboxFiles(Path.of("/run/sbs/abc"));
    private static final QemuConfig CONFIG = QemuConfig.of(Path.of("/k/vmlinuz"), new GuestRoot.Initrd(Path.of("/k/initrd.img")))
            .withFirmware(Path.of("/fw/qboot.rom"));

    private static List<String> build(QemuConfig config, AgentChannel channel, Accelerator accel) {
        return QemuCommandLine.build(config, FILES, channel, accel);
    }

    @Test
    void tcgWithAVirtioSerialAgentChannel() {
        List<String> argv = build(CONFIG, new AgentChannel.VirtioSerial(FILES.agentSocket()), Accelerator.TCG);
        assertThat(argv.getFirst()).isEqualTo("/usr/bin/qemu-system-x86_64");
        assertThat(argv).containsSubsequence("-machine", "q35,dump-guest-core=off")
                .containsSubsequence("-accel", "tcg,tb-size=64").containsSubsequence("-cpu", "max")
                .containsSubsequence("-smp", "1").containsSubsequence("-m", "512M")
                .containsSubsequence("-bios", "/fw/qboot.rom")
                .containsSubsequence("-kernel", "/k/vmlinuz").containsSubsequence("-initrd", "/k/initrd.img")
                .containsSubsequence("-chardev", "file,id=console,path=/run/sbs/abc/console.log,append=on", "-serial", "chardev:console")
                .containsSubsequence("-device", "virtio-serial-pci,id=agent-serial",
                        "-chardev", "socket,id=agent,path=/run/sbs/abc/agent.sock,server=on,wait=off",
                        "-device", "virtserialport,bus=agent-serial.0,chardev=agent,name=agent.channel.0")
                .containsSubsequence("-qmp", "unix:/run/sbs/abc/qmp.sock,server=on,wait=off")
                .containsSubsequence("-pidfile", "/run/sbs/abc/qemu.pid")
                .contains("-no-reboot")
                .doesNotContain("-fsdev");
        String append = argv.get(argv.indexOf("-append") + 1);
        assertThat(append).startsWith("console=ttyS0 panic=1").contains(" quiet").doesNotContain("root=");
    }

    @Test
    void kvmUsesTheHostCpuAndVsockWhereThereIsOne() {
        List<String> argv = build(CONFIG, new AgentChannel.Vsock(42), Accelerator.KVM);
        assertThat(argv).containsSubsequence("-accel", "kvm").containsSubsequence("-cpu", "host")
                .containsSubsequence("-device", "vhost-vsock-pci,id=vsock0,guest-cid=42")
                .noneMatch(a -> a.startsWith("virtio-serial-pci"));
        assertThat(new AgentChannel.Vsock(42).endpoint().toString()).isEqualTo("vsock://42:1024");
    }

    @Test
    void freedGuestMemoryIsReclaimedThroughABalloonOnlyWhenAskedFor() {
        AgentChannel channel = new AgentChannel.VirtioSerial(FILES.agentSocket());
        assertThat(build(CONFIG, channel, Accelerator.TCG)).noneMatch(a -> a.contains("balloon"));
        assertThat(build(CONFIG.withReclaimGuestFreedMemory(true), channel, Accelerator.TCG))
                .containsSubsequence("-device", "virtio-balloon-pci,id=balloon0,free-page-reporting=on");
    }

    @Test
    void ninePShareWithEscapedCommas() {
        QemuConfig config = CONFIG.withSharedFs(SharedFs.NINE_P, Path.of("/shared/a,b"));
        List<String> argv = build(config, new AgentChannel.VirtioSerial(FILES.agentSocket()), Accelerator.TCG);
        assertThat(argv).containsSubsequence("-fsdev", "local,id=shared,path=/shared/a,,b,security_model=none",
                "-device", "virtio-9p-pci,fsdev=shared,mount_tag=kataShared");
        assertThat(argv.get(argv.indexOf("-append") + 1)).doesNotContain("agent.shared_fs");
    }

    @Test
    void virtioFsNeedsASharedMemfdBackend() {
        QemuConfig config = CONFIG.withSharedFs(SharedFs.VIRTIO_FS, Path.of("/shared")).withMemoryMiB(1024);
        List<String> argv = build(config, new AgentChannel.VirtioSerial(FILES.agentSocket()), Accelerator.TCG);
        assertThat(argv).containsSubsequence("-machine", "q35,dump-guest-core=off,memory-backend=mem")
                .containsSubsequence("-object", "memory-backend-memfd,id=mem,size=1024M,share=on")
                .containsSubsequence("-chardev", "socket,id=virtiofs,path=/run/sbs/abc/virtiofsd.sock",
                        "-device", "vhost-user-fs-pci,chardev=virtiofs,tag=kataShared");
        assertThat(argv.get(argv.indexOf("-append") + 1)).contains("agent.shared_fs=virtio-fs");
    }

    @Test
    void anImageOnVirtioBlkIsAReadOnlyDiskTheKernelMountsAndDebugDropsQuiet() {
        QemuConfig config = QemuConfig.of(Path.of("/k/vmlinuz"),
                        new GuestRoot.Image(Path.of("/k/rootfs.img"), ImageDevice.VIRTIO_BLK, "ext4", Optional.empty()))
                .withDebug(true).withKernelParams(List.of("agent.log=debug"));
        List<String> argv = build(config, new AgentChannel.VirtioSerial(FILES.agentSocket()), Accelerator.TCG);
        assertThat(argv).containsSubsequence("-drive", "file=/k/rootfs.img,if=none,id=rootfs,format=raw,readonly=on",
                "-device", "virtio-blk-pci,drive=rootfs").doesNotContain("-initrd").containsSubsequence("-m", "512M");
        String append = argv.get(argv.indexOf("-append") + 1);
        assertThat(append).doesNotContain("quiet").doesNotContain("dax")
                .contains("root=/dev/vda ro rootfstype=ext4 init=/init").endsWith("agent.log=debug");
    }

    @Test
    void anImageOnVirtioPmemIsMappedReadOnlyBesideRamAndMountedWithDaxByItsBootInitrd(@TempDir Path dir) throws Exception {
        Path image = dir.resolve("root.img");
        try (RandomAccessFile file = new RandomAccessFile(image.toFile(), "rw")) {
            file.setLength(150L << 20); // sparse: only its size matters here
        }
        QemuConfig config = QemuConfig.of(Path.of("/k/vmlinuz"),
                        new GuestRoot.Image(image, ImageDevice.VIRTIO_PMEM, "ext4", Optional.of(Path.of("/k/boot.img"))))
                .withMemoryMiB(1024);
        List<String> argv = build(config, new AgentChannel.VirtioSerial(FILES.agentSocket()), Accelerator.TCG);
        assertThat(argv).containsSubsequence("-m", "1024M,slots=1,maxmem=1174M")
                .containsSubsequence("-initrd", "/k/boot.img")
                .containsSubsequence("-object", "memory-backend-file,id=rootfs,mem-path=" + image + ",size=" + (150L << 20) + ",readonly=on,share=on",
                        "-device", "virtio-pmem-pci,memdev=rootfs,id=rootfs-pmem")
                .doesNotContain("-drive");
        String append = argv.get(argv.indexOf("-append") + 1);
        assertThat(append).contains("root=/dev/pmem0 ro rootfstype=ext4 rootflags=dax").doesNotContain("init=/init");
    }

    @Test
    void imageSettingsAreValidatedByName() {
        assertThatThrownBy(() -> ImageDevice.parse("nvdimm")).hasMessageContaining("vm_rootfs_driver 'nvdimm'")
                .hasMessageContaining("virtio-pmem or virtio-blk-pci");
        assertThat(ImageDevice.parse("virtio-blk")).isEqualTo(ImageDevice.VIRTIO_BLK);
        assertThatThrownBy(() -> new GuestRoot.Image(Path.of("/k/r.img"), ImageDevice.VIRTIO_PMEM, "btrfs", Optional.empty()))
                .hasMessageContaining("rootfs_type 'btrfs'").hasMessageContaining("ext4, xfs, erofs");
    }

    @Test
    void autoIsNotACommandLine() {
        assertThatThrownBy(() -> build(CONFIG, new AgentChannel.VirtioSerial(FILES.agentSocket()), Accelerator.AUTO))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void configurationIsValidated() {
        assertThatThrownBy(() -> CONFIG.withVcpus(0)).hasMessageContaining("vcpus");
        assertThatThrownBy(() -> CONFIG.withMachineType("microvm")).hasMessageContaining("microvm");
        assertThatThrownBy(() -> CONFIG.withSharedFs(SharedFs.NINE_P, null)).hasMessageContaining("shared directory");
        assertThat(SharedFs.parse("virtio-9p")).isEqualTo(SharedFs.NINE_P);
        assertThat(Accelerator.parse("auto")).isEqualTo(Accelerator.AUTO);
    }
}
