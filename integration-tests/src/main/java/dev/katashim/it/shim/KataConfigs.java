package dev.katashim.it.shim;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Kata configuration files for the tests, the demo and the benchmarks. */
public final class KataConfigs {
    /**
     * How long a VM's guest may take to create and start a container (create_container_timeout):
     * under TCG, with both cores busy and other guests beside it, runc in the guest has taken
     * more than upstream's default of 60 s.
     */
    public static final int VM_CREATE_CONTAINER_TIMEOUT_SECONDS = 300;

    private KataConfigs() {
    }

    /** The no-VM sandbox: our agent on the host (no VM isolation), as a file in {@code dir}. */
    public static Path noVm(Path dir) {
        return noVm(dir, 30);
    }

    /** The same, waiting up to {@code dialTimeoutSeconds} for the host agent to answer. */
    public static Path noVm(Path dir, int dialTimeoutSeconds) {
        return write(dir.resolve("configuration-none.toml"), """
                # the no-VM sandbox: the agent runs on the host and containers get NO VM isolation
                [hypervisor.none]

                [agent.kata]
                dial_timeout = %d
                """.formatted(dialTimeoutSeconds));
    }

    /** The guest image scripts/setup builds (scripts/build-guest-image) in this checkout. */
    public static Path guestImage(Path repo) {
        return repo.resolve("build/guest");
    }

    /** A QEMU sandbox booting this checkout's guest image; {@code extra} lines go into [hypervisor.qemu]. */
    public static Path qemu(Path dir, Path repo, String extra, int dialTimeoutSeconds) {
        return qemu(dir, repo, "virtio-9p", extra, dialTimeoutSeconds);
    }

    /** The same, sharing host files with the guest over {@code sharedFs} (virtio-9p, virtio-fs). */
    public static Path qemu(Path dir, Path repo, String sharedFs, String extra, int dialTimeoutSeconds) {
        return qemu(dir, repo, new Guest(DEFAULT_KERNEL, DEFAULT_ROOT, DEFAULT_MEMORY_MIB, sharedFs, DEFAULT_RECLAIM_FREED_MEMORY), extra,
                dialTimeoutSeconds);
    }

    /** The kernel file of the guest image that the tests boot, and the guest memory they give. */
    public static final String DEFAULT_KERNEL = "vmlinuz";
    public static final int DEFAULT_MEMORY_MIB = 1024;
    /** reclaim_guest_freed_memory, on as in config/configuration-qemu.toml.in. */
    public static final boolean DEFAULT_RECLAIM_FREED_MEMORY = true;
    /** The guest's root, as config/configuration-qemu.toml.in: the root image on virtio-pmem. */
    public static final GuestRootKind DEFAULT_ROOT = GuestRootKind.VIRTIO_PMEM;

    /**
     * Where the guest's root comes from: the whole initramfs (initrd only), or the guest image's
     * root.img behind its boot initramfs, on virtio-pmem (DAX) or virtio-blk.
     */
    public enum GuestRootKind {
        INITRAMFS("initramfs"), VIRTIO_PMEM("virtio-pmem"), VIRTIO_BLK("virtio-blk-pci");

        private final String key;

        GuestRootKind(String key) {
            this.key = key;
        }

        public String key() {
            return key;
        }

        /** initramfs, virtio-pmem or virtio-blk-pci (as vm_rootfs_driver spells the last two). */
        public static GuestRootKind parse(String key) {
            for (GuestRootKind kind : values()) {
                if (kind.key.equals(key)) {
                    return kind;
                }
            }
            throw new IllegalArgumentException("the guest root is initramfs, virtio-pmem or virtio-blk-pci, not " + key);
        }

        /** The [hypervisor.qemu] lines that boot it from the guest image in {@code image}. */
        String tomlLines(Path image) {
            return switch (this) {
                case INITRAMFS -> "initrd = \"" + image.resolve("initramfs.img") + "\"";
                case VIRTIO_PMEM, VIRTIO_BLK -> String.join("\n",
                        "image = \"" + image.resolve("root.img") + "\"",
                        "initrd = \"" + image.resolve("boot-initramfs.img") + "\"",
                        "vm_rootfs_driver = \"" + key + "\"",
                        "rootfs_type = \"ext4\"");
            };
        }
    }

    /**
     * What the benchmarks vary in a QEMU sandbox: the guest image's kernel file, the guest's root,
     * the guest's memory, the share, reclaim_guest_freed_memory.
     */
    public record Guest(String kernelFile, GuestRootKind root, int memoryMiB, String sharedFs, boolean reclaimFreedMemory) {
    }

    /** A QEMU sandbox booting {@code guest}. */
    public static Path qemu(Path dir, Path repo, Guest guest, String extra, int dialTimeoutSeconds) {
        Path image = guestImage(repo);
        return write(dir.resolve("configuration-qemu.toml"), String.join("\n",
                "[hypervisor.qemu]",
                "path = \"/usr/bin/qemu-system-x86_64\"",
                "kernel = \"" + image.resolve(guest.kernelFile()) + "\"",
                guest.root().tomlLines(image),
                "machine_type = \"q35\"",
                "default_vcpus = 1",
                "default_memory = " + guest.memoryMiB(),
                "shared_fs = \"" + guest.sharedFs() + "\"",
                "reclaim_guest_freed_memory = " + guest.reclaimFreedMemory(),
                extra,
                "",
                "[agent.kata]",
                "dial_timeout = " + dialTimeoutSeconds,
                "create_container_timeout = " + VM_CREATE_CONTAINER_TIMEOUT_SECONDS,
                ""));
    }

    public static Path write(Path file, String toml) {
        try {
            Files.createDirectories(file.getParent());
            return Files.writeString(file, toml);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
