package dev.katashim.shim.resource;

import dev.katashim.sys.HostCommand;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * How host directories reach the agent: a host agent sees host paths as they are; a guest sees
 * the sandbox's shared directory ({@code <sandbox dir>/shared}, exported over 9p or virtio-fs),
 * where each container's root filesystem is bind-mounted and which the guest mounts at
 * {@link SharedDirectory#GUEST_MOUNT}.
 */
sealed interface GuestShare {

    /** Makes {@code hostDir} reachable for container {@code containerId}; returns the path the agent must use. */
    Path shareRootfs(String containerId, Path hostDir) throws IOException;

    /** Undoes {@link #shareRootfs} once the container is gone. */
    void unshareRootfs(String containerId);

    /** The no-VM sandbox: the agent runs on the host. */
    record HostPaths() implements GuestShare {
        @Override
        public Path shareRootfs(String containerId, Path hostDir) {
            return hostDir;
        }

        @Override
        public void unshareRootfs(String containerId) {
        }
    }

    /** A VM's share: bind mounts under {@code hostDir}, which the hypervisor exports to the guest. */
    record SharedDirectory(Path hostDir) implements GuestShare {
        private static final Logger log = LoggerFactory.getLogger(SharedDirectory.class);
        /** Where the guest's init mounts the share (scripts/guest-image/init). */
        static final Path GUEST_MOUNT = Path.of("/run/kata-containers/shared/containers");
        private static final Duration TIMEOUT = Duration.ofSeconds(30);

        @Override
        public Path shareRootfs(String containerId, Path hostRootfs) throws IOException {
            Path target = Files.createDirectories(hostDir.resolve(containerId).resolve("rootfs"));
            HostCommand.run(List.of("mount", "--bind", hostRootfs.toString(), target.toString()), TIMEOUT,
                    "share " + hostRootfs + " with the guest");
            return GUEST_MOUNT.resolve(containerId).resolve("rootfs");
        }

        @Override
        public void unshareRootfs(String containerId) {
            Path target = hostDir.resolve(containerId).resolve("rootfs");
            try {
                HostCommand.run(List.of("umount", "-l", target.toString()), TIMEOUT, "unshare " + target);
                Files.deleteIfExists(target);
                Files.deleteIfExists(target.getParent());
            } catch (IOException e) {
                log.warn("{}", e.getMessage());
            }
        }
    }
}
