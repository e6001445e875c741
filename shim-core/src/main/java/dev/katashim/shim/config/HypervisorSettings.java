package dev.katashim.shim.config;

import java.nio.file.Path;
import java.util.List;

/** The one {@code [hypervisor.<name>]} section of a Kata configuration file. */
public sealed interface HypervisorSettings {

    /**
     * {@code [hypervisor.qemu]}, with upstream's keys; {@code disableGuestSeccomp} (upstream's default
     * true) drops the containers' seccomp profiles before they reach the guest;
     * {@code reclaimGuestFreedMemory} (upstream's default false) gives the host back what the guest frees.
     * With an {@code image}, {@code vmRootfsDriver} ({@code vm_rootfs_driver}: virtio-pmem, the default,
     * or virtio-blk-pci) and {@code rootfsType} ({@code rootfs_type}: ext4, xfs, erofs) say how the guest
     * mounts it, and an {@code initrd} beside it is the initramfs that does so (a kernel whose drivers
     * are modules, as Debian's, needs one; upstream's kernel has them built in).
     */
    record Qemu(Path path, Path kernel, Path initrd, Path image, String vmRootfsDriver, String rootfsType,
                String machineType, int defaultVcpus, int defaultMemoryMiB, SharedFs sharedFs, List<String> kernelParams,
                boolean enableDebug, String accelerator, boolean disableGuestSeccomp,
                boolean reclaimGuestFreedMemory) implements HypervisorSettings {
    }

    /**
     * {@code [hypervisor.none]}: this project's no-VM sandbox — the agent runs on the host and the
     * containers get no VM isolation. Only ever used when a configuration file names it.
     */
    record None(List<String> agentCommand) implements HypervisorSettings {
    }

    enum SharedFs {
        VIRTIO_9P("virtio-9p"), VIRTIO_FS("virtio-fs"), NONE("none");

        private final String key;

        SharedFs(String key) {
            this.key = key;
        }

        public String key() {
            return key;
        }

        static SharedFs of(String key, String where) {
            for (SharedFs fs : values()) {
                if (fs.key.equals(key)) {
                    return fs;
                }
            }
            throw new ConfigException(where + ": shared_fs = \"" + key + "\" is not one of virtio-9p, virtio-fs, none");
        }
    }
}
