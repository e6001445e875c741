package dev.katashim.vmm.qemu;

import dev.katashim.vmm.qemu.QemuConfig.Accelerator;
import dev.katashim.vmm.qemu.QemuConfig.GuestRoot;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;

/** Builds QEMU's argv for one sandbox from its configuration; no side effects (it reads a root image's size). */
public final class QemuCommandLine {
    /**
     * Kernel parameters every guest gets, after upstream Kata's: a serial console, reboot on panic
     * (QEMU then exits: {@code -no-reboot}), no keyboard-controller probing, no crypto self-tests
     * and no timer checks (each costs time under TCG).
     */
    static final List<String> BASE_KERNEL_PARAMS = List.of(
            "console=ttyS0", "panic=1", "reboot=k", "tsc=reliable", "no_timer_check", "noreplace-smp",
            "rcupdate.rcu_expedited=1", "cryptomgr.notests", "i8042.direct=1", "i8042.dumbkbd=1", "i8042.nopnp=1",
            "i8042.noaux=1", "net.ifnames=0");

    /**
     * TCG's translated-code cache, in MiB. QEMU 7.2's default is 1 GiB, filled as the guest runs new
     * code and never given back: an idle guest of ours had translated ~100 MiB by the time its agent
     * listened, and a long-running one grows towards the whole GiB. 64 MiB cost no boot time
     * (agent listening at 24.2 s vs 24.4 s) and saved 42 MiB of QEMU's PSS at idle (480 vs 522 MiB).
     */
    static final int TCG_TRANSLATION_CACHE_MIB = 64;

    private QemuCommandLine() {
    }

    /** The full argv for {@code config} running with {@code accelerator} (KVM or TCG, not AUTO). */
    public static List<String> build(QemuConfig config, SandboxFiles files, AgentChannel channel, Accelerator accelerator) {
        if (accelerator == Accelerator.AUTO) {
            throw new IllegalArgumentException("the command line needs a concrete accelerator, not AUTO");
        }
        boolean virtioFs = config.sharedFs() == QemuConfig.SharedFs.VIRTIO_FS;
        List<String> args = new ArrayList<>();
        args.add(config.qemu().toString());
        args.addAll(List.of("-name", "sandbox-" + files.dir().getFileName() + ",debug-threads=on"));
        args.addAll(List.of("-nographic", "-nodefaults", "-no-user-config"));
        // upstream Kata's seccomp set: no obsolete syscalls, no setuid, no fork/exec, no affinity/priority changes
        args.addAll(List.of("-sandbox", "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny"));
        // dump-guest-core=off: a QEMU core dump never carries the guest's memory
        args.addAll(List.of("-machine", config.machineType() + ",dump-guest-core=off" + (virtioFs ? ",memory-backend=mem" : "")));
        args.addAll(List.of("-accel", accelerator == Accelerator.KVM ? "kvm" : "tcg,tb-size=" + TCG_TRANSLATION_CACHE_MIB));
        // TCG: "max" is every feature TCG emulates (RDRAND among them, so the guest has entropy at once)
        args.addAll(List.of("-cpu", accelerator == Accelerator.KVM ? "host" : "max"));
        args.addAll(List.of("-smp", Integer.toString(config.vcpus())));
        args.addAll(List.of("-m", memory(config)));
        if (virtioFs) {
            // vhost-user needs guest RAM that virtiofsd can map: a shared memfd
            args.addAll(List.of("-object", "memory-backend-memfd,id=mem,size=" + config.memoryMiB() + "M,share=on"));
        }
        config.effectiveFirmware().ifPresent(bios -> args.addAll(List.of("-bios", bios.toString())));
        args.addAll(List.of("-kernel", config.kernel().toString()));
        switch (config.root()) {
            case GuestRoot.Initrd(var initrd) -> args.addAll(List.of("-initrd", initrd.toString()));
            case GuestRoot.Image image -> {
                image.bootInitrd().ifPresent(initrd -> args.addAll(List.of("-initrd", initrd.toString())));
                args.addAll(switch (image.device()) {
                    // read-only and shared: the guest's reads map the host's page cache, and nothing writes the file
                    case VIRTIO_PMEM -> List.of(
                            "-object", "memory-backend-file,id=rootfs,mem-path=" + escape(image.path().toString())
                                    + ",size=" + imageBytes(image) + ",readonly=on,share=on",
                            "-device", "virtio-pmem-pci,memdev=rootfs,id=rootfs-pmem");
                    case VIRTIO_BLK -> List.of(
                            "-drive", "file=" + escape(image.path().toString()) + ",if=none,id=rootfs,format=raw,readonly=on",
                            "-device", "virtio-blk-pci,drive=rootfs");
                });
            }
        }
        args.addAll(List.of("-append", kernelParams(config)));
        // append: the shim may empty an oversized console log, and QEMU then writes on at its new end
        args.addAll(List.of("-chardev", "file,id=console,path=" + escape(files.consoleLog().toString()) + ",append=on",
                "-serial", "chardev:console"));
        args.addAll(channel.qemuArgs());
        switch (config.sharedFs()) {
            case NINE_P -> args.addAll(List.of(
                    "-fsdev", "local,id=shared,path=" + escape(config.sharedDir().orElseThrow().toString()) + ",security_model=none",
                    "-device", "virtio-9p-pci,fsdev=shared,mount_tag=" + QemuConfig.SHARED_MOUNT_TAG));
            case VIRTIO_FS -> args.addAll(List.of(
                    "-chardev", "socket,id=virtiofs,path=" + escape(files.virtiofsdSocket().toString()),
                    "-device", "vhost-user-fs-pci,chardev=virtiofs,tag=" + QemuConfig.SHARED_MOUNT_TAG));
            case NONE -> {
            }
        }
        if (config.reclaimGuestFreedMemory()) {
            // never inflated: only its free page reporting is used (the guest's virtio_balloon reports
            // freed 2 MiB blocks; QEMU discards them, so boot-time buffers stop costing host memory)
            args.addAll(List.of("-device", "virtio-balloon-pci,id=balloon0,free-page-reporting=on"));
        }
        // lets a guest that loads pvpanic-pci report a panic (QMP GUEST_PANICKED) before it reboots
        args.addAll(List.of("-device", "pvpanic-pci"));
        args.addAll(List.of("-qmp", "unix:" + escape(files.qmpSocket().toString()) + ",server=on,wait=off"));
        args.addAll(List.of("-pidfile", files.pidFile().toString()));
        args.add("-no-reboot");
        return List.copyOf(args);
    }

    /**
     * {@code -m}: the guest's RAM, and for a virtio-pmem root the room its region takes beside RAM
     * (QEMU places such devices above RAM, within {@code maxmem}, one slot each).
     */
    static String memory(QemuConfig config) {
        if (config.root() instanceof GuestRoot.Image image && image.device() == QemuConfig.ImageDevice.VIRTIO_PMEM) {
            long imageMiB = (imageBytes(image) + (1 << 20) - 1) >> 20;
            return config.memoryMiB() + "M,slots=1,maxmem=" + (config.memoryMiB() + imageMiB) + "M";
        }
        return config.memoryMiB() + "M";
    }

    private static long imageBytes(GuestRoot.Image image) {
        try {
            return Files.size(image.path());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the size of the guest image " + image.path(), e);
        }
    }

    /**
     * Tells the image's /init to mount the share over virtio-fs: unlike a 9p device, a virtio-fs
     * device shows no mount tag in the guest's sysfs (Linux 6.1), so the guest cannot find it alone.
     */
    static final String VIRTIO_FS_PARAM = "agent.shared_fs=virtio-fs";

    /** The guest kernel's command line: ours, then the root's, then the configuration's. */
    static String kernelParams(QemuConfig config) {
        List<String> params = new ArrayList<>(BASE_KERNEL_PARAMS);
        if (!config.debug()) {
            params.add("quiet");
        }
        if (config.sharedFs() == QemuConfig.SharedFs.VIRTIO_FS) {
            params.add(VIRTIO_FS_PARAM);
        }
        if (config.root() instanceof GuestRoot.Image image) {
            params.addAll(List.of("root=" + image.device().guestDevice(), "ro", "rootfstype=" + image.fsType()));
            if (image.device() == QemuConfig.ImageDevice.VIRTIO_PMEM) {
                params.add("rootflags=dax");
            }
            if (image.bootInitrd().isEmpty()) {
                // the kernel mounts the image itself and then runs this, our image's /init
                params.add("init=/init");
            }
        }
        params.addAll(config.kernelParams());
        return String.join(" ", params);
    }

    /** QEMU option values separate properties with commas; a literal comma is written twice. */
    static String escape(String value) {
        return value.replace(",", ",,");
    }
}
