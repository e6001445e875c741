package dev.katashim.shim.resource;

import dev.katashim.protocols.kata.agent.Mount;
import dev.katashim.protocols.kata.agent.Storage;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The pod's /dev/shm in the guest, as upstream: one tmpfs at {@link #GUEST_PATH} that every
 * container of the pod binds, sized from the sandbox container's spec (64 MiB for a /dev/shm mount;
 * the size of its source for a bind of one, as CRI's sandbox shm is; none without a /dev/shm
 * mount, and then each container gets a private 64 MiB tmpfs). The host's shm never reaches the guest.
 */
record PodShm(long sizeBytes) {
    static final String DESTINATION = "/dev/shm";
    static final String GUEST_PATH = "/run/kata-containers/sandbox/shm";
    static final long DEFAULT_SIZE = 64L << 20;
    private static final String FLAGS = "noexec,nosuid,nodev,mode=1777";

    static PodShm of(List<Mount> sandboxMounts) throws IOException {
        for (Mount m : sandboxMounts) {
            if (m.getDestination().equals(DESTINATION)) {
                if (SharedVolumes.isBind(m) && !m.getSource().equals(DESTINATION)
                        && Files.exists(dev.katashim.shim.oci.HostPath.of(m.getSource(), "the /dev/shm mount's source"))) {
                    return new PodShm(Files.getFileStore(Path.of(m.getSource())).getTotalSpace());
                }
                return new PodShm(DEFAULT_SIZE);
            }
        }
        return new PodShm(0);
    }

    /** The sandbox's storage for CreateSandbox: the agent mounts the tmpfs once, for all containers. */
    Optional<Storage> storage() {
        if (sizeBytes <= 0) {
            return Optional.empty();
        }
        return Optional.of(Storage.newBuilder().setDriver("ephemeral").setSource("shm").setFstype("tmpfs")
                .addAllOptions(List.of(FLAGS.split(","))).addOptions("size=" + sizeBytes)
                .setMountPoint(GUEST_PATH).setShared(true).build());
    }

    /** A container's /dev/shm mount, made the pod's. */
    Mount mountFor(Mount requested) {
        if (sizeBytes > 0) {
            return Mount.newBuilder().setDestination(DESTINATION).setSource(GUEST_PATH).setType("bind").addOptions("rbind").build();
        }
        return Mount.newBuilder().setDestination(DESTINATION).setSource("shm").setType("tmpfs")
                .addAllOptions(List.of(FLAGS.split(","))).addOptions("size=" + DEFAULT_SIZE).build();
    }
}
