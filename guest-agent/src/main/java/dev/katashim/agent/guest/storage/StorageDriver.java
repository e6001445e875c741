package dev.katashim.agent.guest.storage;

import java.util.Arrays;
import java.util.Optional;
import java.util.Set;

/** The storage drivers of upstream's agent this agent handles, by their wire names. */
public enum StorageDriver {
    /** A tmpfs of the sandbox: its shared /dev/shm, memory-backed emptyDirs. */
    EPHEMERAL("ephemeral"),
    /** A directory of the sandbox (disk emptyDirs kept in the guest): created, never mounted. */
    LOCAL("local"),
    /** The host's shared directory, or a volume in it, over virtio-fs. */
    VIRTIO_FS("virtio-fs"),
    /** The same over 9p. */
    NINE_P("9p"),
    /** A ConfigMap or Secret in the shared directory: bound in place (upstream copies it to a tmpfs it polls). */
    WATCHABLE_BIND("watchable-bind");

    /** Upstream drivers this agent does not handle (block devices, image pulling, overlays). */
    public static final Set<String> NOT_IMPLEMENTED = Set.of("blk", "blk-ccw", "mmioblk", "scsi", "nvdimm", "pmem",
            "overlayfs", "image_guest_pull", "multi-layer-erofs", "vfio-pci", "vfio-ap");

    private final String wireName;

    StorageDriver(String wireName) {
        this.wireName = wireName;
    }

    public String wireName() {
        return wireName;
    }

    public static Optional<StorageDriver> named(String name) {
        return Arrays.stream(values()).filter(d -> d.wireName.equals(name)).findFirst();
    }
}
