package dev.katashim.agent.guest.storage;

import dev.katashim.agent.guest.AgentStatus;
import dev.katashim.protocols.kata.agent.Storage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The storages of the sandbox, by mount point, as upstream's agent keeps them: each mounted once,
 * however many requests name it, and reference-counted. The last container to let go unmounts
 * it, unless it is {@code shared} (those, and the sandbox's own, stay until DestroySandbox). A
 * request whose storages cannot all be had leaves nothing of its own mounted.
 */
public final class SandboxStorages {
    private static final Logger log = LoggerFactory.getLogger(SandboxStorages.class);

    private final GuestPaths paths;
    /** In mount order: unmounting goes the other way. */
    private final Map<String, Held> held = new LinkedHashMap<>();

    private static final class Held {
        final StorageRequest request;
        /** False for a share /init had mounted already: not ours to unmount. */
        final boolean mountedHere;
        int references = 1;

        Held(StorageRequest request, boolean mountedHere) {
            this.request = request;
            this.mountedHere = mountedHere;
        }
    }

    public SandboxStorages(GuestPaths paths) {
        this.paths = paths;
    }

    /**
     * Takes a reference on each storage, mounting those not mounted yet; the mount points, to
     * {@link #release} later. Every storage is checked before anything is mounted
     * (INVALID_ARGUMENT naming it), and a failed mount releases what this call had taken.
     */
    public synchronized List<String> acquire(List<Storage> storages) throws InterruptedException {
        List<StorageRequest> requests = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (Storage storage : storages) {
            StorageRequest request = StorageRequest.of(storage, paths);
            if (!seen.add(request.guestMountPoint())) {
                throw AgentStatus.invalid(request.describe() + " is given twice");
            }
            Held existing = held.get(request.guestMountPoint());
            if (existing != null && !existing.request.sameAs(request)) {
                throw AgentStatus.invalid(request.describe() + ": its mount point holds another storage already ("
                        + existing.request.describe() + ", source " + AgentStatus.quote(existing.request.source()) + ")");
            }
            requests.add(request);
        }
        List<String> taken = new ArrayList<>();
        try {
            for (StorageRequest request : requests) {
                Held existing = held.get(request.guestMountPoint());
                if (existing != null) {
                    existing.references++;
                } else {
                    held.put(request.guestMountPoint(), new Held(request, mount(request)));
                }
                taken.add(request.guestMountPoint());
            }
            return taken;
        } catch (RuntimeException | InterruptedException e) {
            abandon(taken);
            throw e;
        }
    }

    /** Drops one reference on each; a storage nobody holds any more is unmounted (unless shared). */
    public synchronized void release(List<String> mountPoints) {
        drop(mountPoints, false);
    }

    /**
     * Undoes an {@link #acquire} whose request failed afterwards: as {@link #release}, but a
     * shared storage nobody holds is unmounted too (the request that brought it did not happen).
     */
    public synchronized void abandon(List<String> mountPoints) {
        drop(mountPoints, true);
    }

    private void drop(List<String> mountPoints, boolean evenShared) {
        for (String mountPoint : mountPoints.reversed()) {
            Held h = held.get(mountPoint);
            if (h == null) {
                log.warn("storage {} released but not held", mountPoint);
                continue;
            }
            h.references--;
            if (h.references <= 0 && (evenShared || !h.request.shared())) {
                held.remove(mountPoint);
                unmount(h);
            }
        }
    }

    /** Unmounts every storage, whoever holds it (the sandbox ends). */
    public synchronized void releaseAll() {
        List<Held> all = new ArrayList<>(held.values());
        held.clear();
        for (Held h : all.reversed()) {
            unmount(h);
        }
    }

    /**
     * UpdateEphemeralMounts: new options (a size, as the shim sends {@code remount,size=<n>M}
     * once it knows the sandbox's memory) for ephemeral storages held now. Only ephemeral
     * storages can be updated (INVALID_ARGUMENT); one not mounted is FAILED_PRECONDITION.
     */
    public synchronized void remount(List<Storage> storages) throws InterruptedException {
        List<StorageRequest> requests = new ArrayList<>();
        for (Storage storage : storages) {
            StorageRequest request = StorageRequest.of(storage, paths);
            if (request.driver() != StorageDriver.EPHEMERAL) {
                throw AgentStatus.invalid(request.describe() + ": only ephemeral storages can be updated");
            }
            Held h = held.get(request.guestMountPoint());
            if (h == null || h.request.driver() != StorageDriver.EPHEMERAL) {
                throw AgentStatus.precondition(request.describe() + " is not mounted: nothing to update");
            }
            requests.add(request);
        }
        for (StorageRequest request : requests) {
            if (request.mountOptions().isEmpty()) {
                continue;
            }
            List<String> options = new ArrayList<>(request.mountOptions());
            if (!options.contains("remount")) {
                options.addFirst("remount");
            }
            MountCommands.mount("", options, "", request.mountPoint());
            log.info("{} remounted with {}", request.describe(), options);
        }
    }

    /**
     * Detaches whatever is mounted at or below {@code dir}: what a killed host-mode agent left
     * in its state dir (storages, the sandbox's namespaces).
     */
    public static void unmountLeftovers(Path dir) {
        for (Path mountPoint : MountCommands.mountPointsBelow(dir)) {
            log.warn("unmounting {}, which an earlier agent left mounted", mountPoint);
            try {
                MountCommands.unmount(mountPoint);
            } catch (RuntimeException e) {
                log.warn("{}", e.getMessage());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    public synchronized List<String> mountPoints() {
        return List.copyOf(held.keySet());
    }

    /** Mounts (or makes) one storage; false if it was mounted before the agent came (the guest's share). */
    private boolean mount(StorageRequest request) throws InterruptedException {
        Path target = request.mountPoint();
        boolean premounted = (request.driver() == StorageDriver.NINE_P || request.driver() == StorageDriver.VIRTIO_FS)
                && request.source().equals(StorageRequest.PREMOUNTED_SHARE) && MountCommands.isMountPoint(target);
        if (premounted) {
            log.info("{}: {} is mounted already (by the guest's init)", request.describe(), target);
            return false;
        }
        if (request.driver() == StorageDriver.WATCHABLE_BIND && !Files.exists(Path.of(request.source()))) {
            throw AgentStatus.invalid(request.describe() + ": its source " + AgentStatus.quote(request.source()) + " does not exist");
        }
        try {
            if (request.driver() == StorageDriver.WATCHABLE_BIND && Files.isRegularFile(Path.of(request.source()))) {
                Files.createDirectories(target.getParent());
                if (!Files.exists(target)) {
                    Files.createFile(target);
                }
            } else {
                Files.createDirectories(target);
            }
        } catch (IOException e) {
            throw AgentStatus.internal(request.describe() + ": cannot create " + target + ": " + e.getMessage());
        }
        if (request.driver() != StorageDriver.LOCAL) {
            MountCommands.mount(request.fstype(), request.mountOptions(), request.source(), target);
        }
        try {
            ownAndMode(request);
        } catch (RuntimeException | InterruptedException e) {
            unmount(new Held(request, true));
            throw e;
        }
        log.info("{} ready at {}", request.describe(), target);
        return true;
    }

    /** fsgid= (the group owns it, setgid so new files keep it) and a local directory's mode=. */
    private static void ownAndMode(StorageRequest request) throws InterruptedException {
        Path target = request.mountPoint();
        int setgid = 0;
        if (request.fsGroup().isPresent()) {
            try {
                Files.setAttribute(target, "unix:gid", request.fsGroup().getAsInt());
            } catch (IOException e) {
                throw AgentStatus.internal(request.describe() + ": cannot give " + target + " to group " + request.fsGroup().getAsInt()
                        + ": " + e.getMessage());
            }
            setgid = 02000;
        }
        if (request.mode().isPresent() || setgid != 0) {
            int mode;
            try {
                mode = request.mode().orElse((Integer) Files.getAttribute(target, "unix:mode") & 07777);
            } catch (IOException e) {
                throw AgentStatus.internal(request.describe() + ": " + e.getMessage());
            }
            MountCommands.chmod(target, mode | setgid);
        }
    }

    private static void unmount(Held h) {
        StorageRequest request = h.request;
        if (!h.mountedHere || request.driver() == StorageDriver.LOCAL) {
            return; // the guest's share stays; a local directory is the volume's data, not a mount
        }
        try {
            MountCommands.unmount(request.mountPoint());
            log.info("{} unmounted", request.describe());
        } catch (RuntimeException e) {
            log.warn("{}: {}", request.describe(), e.getMessage());
            return;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        try {
            if (Files.isDirectory(request.mountPoint())) {
                try (var entries = Files.list(request.mountPoint())) {
                    if (entries.findAny().isEmpty()) {
                        Files.delete(request.mountPoint());
                    }
                }
            }
        } catch (IOException e) {
            log.debug("left the mount point {}: {}", request.mountPoint(), e.toString());
        }
    }
}
