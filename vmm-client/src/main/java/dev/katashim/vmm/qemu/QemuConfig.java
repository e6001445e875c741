package dev.katashim.vmm.qemu;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * How to run a sandbox's QEMU. Upstream's {@code [hypervisor.qemu]} keys map here: {@code path},
 * {@code kernel}, {@code initrd} / {@code image} ({@code vm_rootfs_driver}, {@code rootfs_type}), {@code machine_type}, {@code default_vcpus},
 * {@code default_memory}, {@code kernel_params}, {@code shared_fs}, {@code enable_debug},
 * {@code firmware}, {@code reclaim_guest_freed_memory}. Build one with {@link #of} and adjust it with the {@code with...} methods.
 *
 * @param qemu        the QEMU binary
 * @param kernel      the guest kernel ({@code -kernel})
 * @param root        the guest's root: an initramfs, or a read-only image on virtio-pmem or virtio-blk
 * @param machineType {@code q35} (default: it boots as fast as {@code pc} and has PCIe) or {@code pc}
 * @param vcpus       {@code -smp}
 * @param memoryMiB   {@code -m}, in MiB
 * @param kernelParams extra kernel parameters, after ours
 * @param sharedFs    how the sandbox's shared directory reaches the guest
 * @param sharedDir   the shared directory (required unless {@code sharedFs} is {@link SharedFs#NONE})
 * @param accelerator {@link Accelerator#AUTO}: KVM where it starts a guest, else TCG
 * @param firmware    the BIOS ({@code -bios}); empty: qboot where installed (see {@link #DEFAULT_FIRMWARE}), else QEMU's SeaBIOS
 * @param virtiofsd   the virtio-fs daemon, for {@link SharedFs#VIRTIO_FS}
 * @param debug       kernel messages on the console (no {@code quiet}), and more logging
 * @param reclaimGuestFreedMemory a virtio-balloon device with free page reporting: the guest tells
 *                    QEMU which pages it has freed and QEMU gives them back to the host
 *                    (upstream's {@code reclaim_guest_freed_memory})
 */
public record QemuConfig(Path qemu, Path kernel, GuestRoot root, String machineType, int vcpus, int memoryMiB,
                         List<String> kernelParams, SharedFs sharedFs, Optional<Path> sharedDir, Accelerator accelerator,
                         Optional<Path> firmware, Path virtiofsd, boolean debug, boolean reclaimGuestFreedMemory) {

    public static final Path DEFAULT_QEMU = Path.of("/usr/bin/qemu-system-x86_64");
    public static final Path DEFAULT_VIRTIOFSD = Path.of("/usr/lib/qemu/virtiofsd");
    /**
     * qboot, a minimal BIOS that only boots {@code -kernel} (bzImage or a PVH ELF vmlinux): under
     * TCG it reaches the kernel about 0.3 s sooner than SeaBIOS (QEMU 7.2, measured), and the shim
     * always boots {@code -kernel}.
     */
    public static final Path DEFAULT_FIRMWARE = Path.of("/usr/share/qemu/qboot.rom");
    public static final String DEFAULT_MACHINE = "q35";

    /** The guest's root filesystem. */
    public sealed interface GuestRoot {
        Path path();

        /** An initramfs ({@code -initrd}): the whole root, unpacked into guest RAM. */
        record Initrd(Path path) implements GuestRoot {
        }

        /**
         * A read-only filesystem image (a whole-disk filesystem, no partition table), mounted as the
         * guest's root.
         *
         * @param path       the image (upstream's {@code image})
         * @param device     how the guest sees it (upstream's {@code vm_rootfs_driver})
         * @param fsType     its filesystem (upstream's {@code rootfs_type}): ext4, xfs or erofs
         * @param bootInitrd an initramfs that loads the drivers and mounts the image (the guest
         *                   image's boot-initramfs.img); empty for a kernel with them built in
         */
        record Image(Path path, ImageDevice device, String fsType, Optional<Path> bootInitrd) implements GuestRoot {
            public static final List<String> FS_TYPES = List.of("ext4", "xfs", "erofs");

            public Image {
                Objects.requireNonNull(path, "path");
                Objects.requireNonNull(device, "device");
                Objects.requireNonNull(bootInitrd, "bootInitrd");
                if (!FS_TYPES.contains(fsType)) {
                    throw new IllegalArgumentException("unsupported rootfs_type '" + fsType + "': expected one of " + String.join(", ", FS_TYPES));
                }
            }
        }
    }

    /**
     * The device a root image is on. virtio-pmem maps the file into guest memory: with DAX the guest
     * runs its files from the host's page cache, which every VM of the same image shares, and keeps
     * no copy of its own. virtio-blk is a disk: what the guest reads is copied into its page cache.
     */
    public enum ImageDevice {
        VIRTIO_PMEM("virtio-pmem", "/dev/pmem0"), VIRTIO_BLK("virtio-blk-pci", "/dev/vda");

        /**
         * A virtio-pmem region is mapped into the guest in whole 2 MiB blocks (Linux's memory
         * hotplug subsection), so the image's size must be a multiple of it.
         */
        public static final long PMEM_ALIGNMENT = 2L << 20;

        private final String key;
        private final String guestDevice;

        ImageDevice(String key, String guestDevice) {
            this.key = key;
            this.guestDevice = guestDevice;
        }

        /** Upstream's {@code vm_rootfs_driver} name. */
        public String key() {
            return key;
        }

        /** The block device the guest kernel names it. */
        public String guestDevice() {
            return guestDevice;
        }

        /** Upstream's names: {@code virtio-pmem}, {@code virtio-blk-pci} (also {@code virtio-blk}). */
        public static ImageDevice parse(String name) {
            return switch (name) {
                case "virtio-pmem" -> VIRTIO_PMEM;
                case "virtio-blk-pci", "virtio-blk" -> VIRTIO_BLK;
                default -> throw new IllegalArgumentException("unknown vm_rootfs_driver '" + name + "': expected virtio-pmem or virtio-blk-pci");
            };
        }
    }

    public enum SharedFs {
        NONE, NINE_P, VIRTIO_FS;

        /** Upstream's {@code shared_fs} names: {@code none}, {@code virtio-9p}, {@code virtio-fs}. */
        public static SharedFs parse(String name) {
            return switch (name) {
                case "none", "" -> NONE;
                case "virtio-9p", "9p" -> NINE_P;
                case "virtio-fs", "virtiofs" -> VIRTIO_FS;
                default -> throw new IllegalArgumentException("unknown shared_fs '" + name + "': expected none, virtio-9p or virtio-fs");
            };
        }
    }

    public enum Accelerator {
        AUTO, KVM, TCG;

        public static Accelerator parse(String name) {
            return switch (name) {
                case "auto", "" -> AUTO;
                case "kvm" -> KVM;
                case "tcg" -> TCG;
                default -> throw new IllegalArgumentException("unknown accelerator '" + name + "': expected auto, kvm or tcg");
            };
        }
    }

    /** The 9p/virtio-fs mount tag the guest mounts, as upstream. */
    public static final String SHARED_MOUNT_TAG = "kataShared";

    public QemuConfig {
        Objects.requireNonNull(qemu, "qemu");
        Objects.requireNonNull(kernel, "kernel");
        Objects.requireNonNull(root, "root");
        Objects.requireNonNull(machineType, "machineType");
        kernelParams = List.copyOf(kernelParams);
        Objects.requireNonNull(sharedFs, "sharedFs");
        Objects.requireNonNull(sharedDir, "sharedDir");
        Objects.requireNonNull(accelerator, "accelerator");
        Objects.requireNonNull(firmware, "firmware");
        Objects.requireNonNull(virtiofsd, "virtiofsd");
        if (vcpus < 1) {
            throw new IllegalArgumentException("vcpus must be at least 1, not " + vcpus);
        }
        if (memoryMiB < 64) {
            throw new IllegalArgumentException("memory must be at least 64 MiB, not " + memoryMiB);
        }
        if (sharedFs != SharedFs.NONE && sharedDir.isEmpty()) {
            throw new IllegalArgumentException("shared_fs " + sharedFs + " needs a shared directory");
        }
        if (!machineType.equals("q35") && !machineType.equals("pc") && !machineType.startsWith("pc-")) {
            throw new IllegalArgumentException("unsupported machine type '" + machineType + "': expected q35 or pc");
        }
    }

    /** Defaults: system QEMU, q35, 1 vCPU, 512 MiB, no shared directory, accelerator auto, qboot if installed. */
    public static QemuConfig of(Path kernel, GuestRoot root) {
        return new QemuConfig(DEFAULT_QEMU, kernel, root, DEFAULT_MACHINE, 1, 512, List.of(), SharedFs.NONE,
                Optional.empty(), Accelerator.AUTO, Optional.empty(), DEFAULT_VIRTIOFSD, false, false);
    }

    public QemuConfig withQemu(Path qemu) {
        return new QemuConfig(qemu, kernel, root, machineType, vcpus, memoryMiB, kernelParams, sharedFs, sharedDir, accelerator, firmware, virtiofsd, debug, reclaimGuestFreedMemory);
    }

    public QemuConfig withMachineType(String machineType) {
        return new QemuConfig(qemu, kernel, root, machineType, vcpus, memoryMiB, kernelParams, sharedFs, sharedDir, accelerator, firmware, virtiofsd, debug, reclaimGuestFreedMemory);
    }

    public QemuConfig withVcpus(int vcpus) {
        return new QemuConfig(qemu, kernel, root, machineType, vcpus, memoryMiB, kernelParams, sharedFs, sharedDir, accelerator, firmware, virtiofsd, debug, reclaimGuestFreedMemory);
    }

    public QemuConfig withMemoryMiB(int memoryMiB) {
        return new QemuConfig(qemu, kernel, root, machineType, vcpus, memoryMiB, kernelParams, sharedFs, sharedDir, accelerator, firmware, virtiofsd, debug, reclaimGuestFreedMemory);
    }

    public QemuConfig withKernelParams(List<String> kernelParams) {
        return new QemuConfig(qemu, kernel, root, machineType, vcpus, memoryMiB, kernelParams, sharedFs, sharedDir, accelerator, firmware, virtiofsd, debug, reclaimGuestFreedMemory);
    }

    public QemuConfig withSharedFs(SharedFs sharedFs, Path sharedDir) {
        return new QemuConfig(qemu, kernel, root, machineType, vcpus, memoryMiB, kernelParams, sharedFs, Optional.ofNullable(sharedDir), accelerator, firmware, virtiofsd, debug, reclaimGuestFreedMemory);
    }

    public QemuConfig withAccelerator(Accelerator accelerator) {
        return new QemuConfig(qemu, kernel, root, machineType, vcpus, memoryMiB, kernelParams, sharedFs, sharedDir, accelerator, firmware, virtiofsd, debug, reclaimGuestFreedMemory);
    }

    public QemuConfig withFirmware(Path firmware) {
        return new QemuConfig(qemu, kernel, root, machineType, vcpus, memoryMiB, kernelParams, sharedFs, sharedDir, accelerator, Optional.ofNullable(firmware), virtiofsd, debug, reclaimGuestFreedMemory);
    }

    public QemuConfig withVirtiofsd(Path virtiofsd) {
        return new QemuConfig(qemu, kernel, root, machineType, vcpus, memoryMiB, kernelParams, sharedFs, sharedDir, accelerator, firmware, virtiofsd, debug, reclaimGuestFreedMemory);
    }

    public QemuConfig withDebug(boolean debug) {
        return new QemuConfig(qemu, kernel, root, machineType, vcpus, memoryMiB, kernelParams, sharedFs, sharedDir, accelerator, firmware, virtiofsd, debug, reclaimGuestFreedMemory);
    }

    public QemuConfig withReclaimGuestFreedMemory(boolean reclaimGuestFreedMemory) {
        return new QemuConfig(qemu, kernel, root, machineType, vcpus, memoryMiB, kernelParams, sharedFs, sharedDir, accelerator, firmware, virtiofsd, debug, reclaimGuestFreedMemory);
    }

    /** The firmware to pass with {@code -bios}: the configured one, else qboot where it is installed. */
    public Optional<Path> effectiveFirmware() {
        return firmware.isPresent() ? firmware : Optional.of(DEFAULT_FIRMWARE).filter(Files::isRegularFile);
    }
}
