package dev.katashim.agent.guest.storage;

import dev.katashim.agent.guest.AgentStatus;
import dev.katashim.agent.guest.HostTool;
import dev.katashim.protocols.kata.agent.Storage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Mounts a request's {@link Storage}s (a container rootfs or volume shared from the host: 9p,
 * virtio-fs, a bind mount in the no-VM mode, a block device's filesystem) with mount(8), and
 * unmounts them in reverse order. Options "bind"/"rbind" or fstype "bind" mean a bind mount.
 */
public final class StorageMounter {
    private static final Logger log = LoggerFactory.getLogger(StorageMounter.class);
    private static final Duration MOUNT_TIMEOUT = Duration.ofSeconds(30);

    /** Mounts every storage; on a failure unmounts what it had mounted and fails INVALID_ARGUMENT/INTERNAL. */
    public List<MountedStorage> mountAll(List<Storage> storages) throws InterruptedException {
        List<MountedStorage> done = new ArrayList<>();
        try {
            for (Storage storage : storages) {
                done.add(mount(storage));
            }
            return done;
        } catch (RuntimeException | InterruptedException e) {
            unmountAll(done);
            throw e;
        }
    }

    private MountedStorage mount(Storage storage) throws InterruptedException {
        if (storage.getMountPoint().isEmpty() || !storage.getMountPoint().startsWith("/")) {
            throw AgentStatus.invalid("storage " + AgentStatus.quote(storage.getSource()) + " needs an absolute mount_point, got "
                    + AgentStatus.quote(storage.getMountPoint()));
        }
        Path mountPoint = Path.of(storage.getMountPoint());
        try {
            Files.createDirectories(mountPoint);
        } catch (IOException e) {
            throw AgentStatus.internal("cannot create mount point " + mountPoint + ": " + e.getMessage());
        }
        List<String> options = new ArrayList<>(storage.getOptionsList());
        boolean bind = storage.getFstype().equals("bind") || options.contains("bind") || options.contains("rbind");
        List<String> command = new ArrayList<>(List.of("mount"));
        if (bind) {
            boolean recursive = options.remove("rbind");
            options.remove("bind");
            command.add(recursive ? "--rbind" : "--bind");
        } else if (!storage.getFstype().isEmpty()) {
            command.addAll(List.of("-t", storage.getFstype()));
        }
        if (!options.isEmpty()) {
            command.addAll(List.of("-o", String.join(",", options)));
        }
        command.add(storage.getSource());
        command.add(mountPoint.toString());
        run(command, "mount " + storage.getSource() + " on " + mountPoint);
        log.info("mounted {} ({}) on {}", storage.getSource(), bind ? "bind" : storage.getFstype(), mountPoint);
        return new MountedStorage(storage.getSource(), mountPoint, bind ? "bind" : storage.getFstype(), storage.getShared());
    }

    /** Unmounts in reverse order; failures are logged, not thrown (teardown must go on). */
    public void unmountAll(List<MountedStorage> mounted) {
        for (MountedStorage m : mounted.reversed()) {
            try {
                run(List.of("umount", m.mountPoint().toString()), "umount " + m.mountPoint());
            } catch (RuntimeException e) {
                log.warn("{}; detaching it lazily", e.getMessage());
                try {
                    run(List.of("umount", "-l", m.mountPoint().toString()), "umount -l " + m.mountPoint());
                } catch (RuntimeException | InterruptedException again) {
                    log.warn("cannot unmount {}: {}", m.mountPoint(), again.getMessage());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private static void run(List<String> command, String what) throws InterruptedException {
        HostTool.run(command, MOUNT_TIMEOUT, what);
    }
}
