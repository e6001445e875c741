package dev.katashim.shim.resource;

import dev.katashim.protocols.kata.agent.Mount;
import dev.katashim.sys.HostCommand;
import dev.katashim.ttrpc.status.StatusCode;
import dev.katashim.ttrpc.status.TtrpcException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A VM container's bind mounts of host paths (volumes, and the files Kubernetes mounts into every
 * container: /etc/hosts, /etc/hostname, /etc/resolv.conf, tokens, ConfigMaps, Secrets), shared
 * with the guest as upstream does: each source is bind-mounted into the sandbox's shared directory
 * as {@code <cid>-<16 hex>-<name>} (read-only remounted when the mount asks for {@code ro}), and
 * the spec's mount then names it in the guest, so the guest's runc binds it into the container and
 * writes reach the host. Mounts of guest things (proc, sysfs, tmpfs, devpts, mqueue, cgroup, and
 * binds of /proc, /sys or /dev paths) are left for the guest to make; /dev/shm becomes the pod's
 * tmpfs in the guest ({@link PodShm}).
 */
final class SharedVolumes {
    private static final Logger log = LoggerFactory.getLogger(SharedVolumes.class);
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final List<String> GUEST_MADE_SOURCES = List.of("/proc", "/sys", "/dev");
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Path hostDir;
    private final Path guestDir;
    private final Map<String, List<Path>> sharedBy = new ConcurrentHashMap<>();

    SharedVolumes(Path hostDir, Path guestDir) {
        this.hostDir = hostDir;
        this.guestDir = guestDir;
    }

    /** The container's mounts as the guest must make them; what was shared is undone on failure. */
    List<Mount> share(String containerId, List<Mount> mounts, PodShm shm) throws IOException {
        List<Mount> guest = new ArrayList<>(mounts.size());
        List<Path> shared = new ArrayList<>();
        sharedBy.put(containerId, shared);
        try {
            for (Mount m : mounts) {
                if (m.getDestination().equals(PodShm.DESTINATION)) {
                    guest.add(shm.mountFor(m));
                } else if (!isHostBind(m)) {
                    guest.add(m);
                } else {
                    guest.add(shareOne(containerId, m, shared));
                }
            }
            return guest;
        } catch (IOException | RuntimeException e) {
            unshare(containerId);
            throw e;
        }
    }

    static boolean isBind(Mount m) {
        return m.getType().equals("bind") || m.getOptionsList().contains("bind") || m.getOptionsList().contains("rbind");
    }

    private static boolean isHostBind(Mount m) {
        if (!isBind(m)) {
            return false;
        }
        String source = m.getSource();
        return GUEST_MADE_SOURCES.stream().noneMatch(p -> source.equals(p) || source.startsWith(p + "/"));
    }

    private Mount shareOne(String containerId, Mount m, List<Path> shared) throws IOException {
        Path source = dev.katashim.shim.oci.HostPath.of(m.getSource(), "bind mount source");
        Path destination = dev.katashim.shim.oci.HostPath.of(m.getDestination(), "bind mount destination");
        BasicFileAttributes attributes;
        try {
            source = source.toRealPath();
            attributes = Files.readAttributes(source, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (IOException e) {
            throw TtrpcException.of(StatusCode.INVALID_ARGUMENT, "bind mount source %s (for %s) does not exist",
                    m.getSource(), m.getDestination());
        }
        if (!attributes.isDirectory() && !attributes.isRegularFile()) {
            throw TtrpcException.of(StatusCode.INVALID_ARGUMENT,
                    "bind mount source %s (for %s) is a socket, device or fifo: it cannot be shared with the VM",
                    m.getSource(), m.getDestination());
        }
        String name = containerId + "-" + HexFormat.of().formatHex(randomBytes()) + "-" + (destination.getFileName() == null ? "root" : destination.getFileName());
        Path target = hostDir.resolve(name);
        if (attributes.isDirectory()) {
            Files.createDirectory(target);
        } else {
            Files.createFile(target);
        }
        shared.add(target);
        HostCommand.run(List.of("mount", "--bind", source.toString(), target.toString()), TIMEOUT, "share " + source + " with the guest");
        if (m.getOptionsList().contains("ro")) {
            // a read-only bind must be made read-only on its own: the guest then cannot write through the share either
            HostCommand.run(List.of("mount", "-o", "remount,bind,ro", target.toString()), TIMEOUT, "make the share of " + source + " read-only");
        }
        log.debug("container {}: {} shared as {}", containerId, source, target);
        return m.toBuilder().setSource(guestDir.resolve(name).toString()).setType("bind").build();
    }

    private static byte[] randomBytes() {
        byte[] bytes = new byte[8];
        RANDOM.nextBytes(bytes);
        return bytes;
    }

    /** Undoes {@link #share}: unmounts each share and removes its placeholder. */
    void unshare(String containerId) {
        List<Path> shared = sharedBy.remove(containerId);
        if (shared == null) {
            return;
        }
        for (Path target : shared.reversed()) {
            try {
                HostCommand.run(List.of("umount", "-l", target.toString()), TIMEOUT, "unshare " + target);
            } catch (IOException e) {
                log.debug("{}", e.getMessage()); // never mounted: the failure came before
            }
            try {
                Files.deleteIfExists(target);
            } catch (IOException e) {
                log.warn("cannot remove {}: {}", target, e.getMessage());
            }
        }
    }
}
