package dev.katashim.vmm.qemu;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** Checks, before anything starts, that every file the configuration names is there; each error names the file and its role. */
final class QemuPreflight {
    private QemuPreflight() {
    }

    static void check(QemuConfig config) throws IOException {
        Path qemu = config.qemu();
        if (!Files.exists(qemu)) {
            throw new NoSuchFileException(qemu.toString(), null, "QEMU binary (hypervisor.qemu path) not found");
        }
        if (!Files.isRegularFile(qemu) || !Files.isExecutable(qemu)) {
            throw new IOException("QEMU binary (hypervisor.qemu path) is not an executable file: " + qemu);
        }
        requireFile(config.kernel(), "guest kernel (hypervisor.qemu kernel)");
        switch (config.root()) {
            case QemuConfig.GuestRoot.Initrd(var initrd) -> requireFile(initrd, "guest initrd (hypervisor.qemu initrd)");
            case QemuConfig.GuestRoot.Image image -> {
                requireFile(image.path(), "guest image (hypervisor.qemu image)");
                if (image.bootInitrd().isPresent()) {
                    requireFile(image.bootInitrd().get(), "guest initrd that mounts the image (hypervisor.qemu initrd)");
                }
                long size = Files.size(image.path());
                if (image.device() == QemuConfig.ImageDevice.VIRTIO_PMEM && (size == 0 || size % QemuConfig.ImageDevice.PMEM_ALIGNMENT != 0)) {
                    throw new IOException("guest image (hypervisor.qemu image) is " + size + " bytes: on virtio-pmem it must be a"
                            + " non-zero multiple of 2 MiB (pad it, or set vm_rootfs_driver = \"virtio-blk-pci\"): " + image.path());
                }
            }
        }
        if (config.firmware().isPresent()) {
            requireFile(config.firmware().get(), "firmware (hypervisor.qemu firmware)");
        }
        switch (config.sharedFs()) {
            case NINE_P -> requireDirectory(config.sharedDir().orElseThrow());
            case VIRTIO_FS -> {
                requireDirectory(config.sharedDir().orElseThrow());
                if (!Files.isExecutable(config.virtiofsd())) {
                    throw new NoSuchFileException(config.virtiofsd().toString(), null,
                            "virtiofsd (needed for shared_fs virtio-fs) not found or not executable");
                }
            }
            case NONE -> {
            }
        }
    }

    private static void requireFile(Path file, String role) throws IOException {
        if (!Files.exists(file)) {
            throw new NoSuchFileException(file.toString(), null, role + " not found");
        }
        if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
            throw new FileNotFoundException(role + " is not a readable file: " + file);
        }
    }

    private static void requireDirectory(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new NoSuchFileException(dir.toString(), null, "shared directory not found");
        }
    }
}
