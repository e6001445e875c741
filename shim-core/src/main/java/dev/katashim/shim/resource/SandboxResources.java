package dev.katashim.shim.resource;

import dev.katashim.protocols.containerd.types.Mount;
import dev.katashim.protocols.kata.agent.Storage;
import dev.katashim.shim.oci.Bundle;
import dev.katashim.shim.resource.cgroup.SandboxCgroup;
import dev.katashim.vmm.Hypervisor;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The host resources of one sandbox, in one place (as runtime-rs's resource manager): its host
 * cgroup, the share through which the guest sees host directories, and each container's root
 * filesystem mounts. The sandbox asks for them and gives them back; nothing else mounts or
 * creates cgroups.
 */
public final class SandboxResources {
    private final SandboxCgroup cgroup;
    private final GuestShare share;
    /** A guest's: host binds shared into the VM; null when the agent sees host paths. */
    private final SharedVolumes volumes;
    private final Map<String, RootfsMounts> rootfs = new ConcurrentHashMap<>();
    private volatile PodShm shm = new PodShm(0);
    /** The shared directory's own shared mount (a share served from another mount namespace); null otherwise. */
    private final SharedSubtree subtree;

    private SandboxResources(SandboxCgroup cgroup, GuestShare share, SharedVolumes volumes, SharedSubtree subtree) {
        this.cgroup = cgroup;
        this.share = share;
        this.volumes = volumes;
        this.subtree = subtree;
    }

    /** How the shared directory reaches a guest. */
    public enum Export {
        /** No guest: a host agent sees host paths. */
        HOST_PATHS,
        /** The hypervisor reads the host's directory itself (9p). */
        BY_HYPERVISOR,
        /** A daemon in a mount namespace of its own serves it (virtiofsd): later mounts must propagate to it. */
        BY_DAEMON
    }

    /**
     * Before the hypervisor starts: the sandbox's cgroup, and the share — {@code sharedDir}, which the
     * hypervisor exports to a guest, or the host's own paths for a host agent.
     */
    public static SandboxResources prepare(String sandboxId, Export export, Path sharedDir) throws IOException {
        return prepare(sandboxId, export, sharedDir, java.util.Optional.empty());
    }

    /** The same, the cgroup inside a CRI pod's cgroup when {@code podCgroupsPath} is given. */
    public static SandboxResources prepare(String sandboxId, Export export, Path sharedDir,
                                           java.util.Optional<String> podCgroupsPath) throws IOException {
        if (export == Export.HOST_PATHS) {
            return new SandboxResources(SandboxCgroup.create(sandboxId, podCgroupsPath), new GuestShare.HostPaths(), null, null);
        }
        makeSharedDir(sharedDir);
        SharedSubtree subtree = export == Export.BY_DAEMON ? SharedSubtree.make(sharedDir) : null;
        try {
            return new SandboxResources(SandboxCgroup.create(sandboxId, podCgroupsPath), new GuestShare.SharedDirectory(sharedDir),
                    new SharedVolumes(sharedDir, GuestShare.SharedDirectory.GUEST_MOUNT), subtree);
        } catch (RuntimeException e) {
            if (subtree != null) {
                subtree.remove();
            }
            throw e;
        }
    }

    private static void makeSharedDir(Path sharedDir) throws IOException {
        try {
            Files.createDirectories(sharedDir);
        } catch (IOException e) {
            throw new IOException("cannot make " + sharedDir + ", the directory shared with the guest: "
                    + (e instanceof FileAlreadyExistsException ? "a file is in the way" : e.toString()), e);
        }
    }

    public SandboxCgroup cgroup() {
        return cgroup;
    }

    /** Where the hypervisor's processes go: into the sandbox's cgroup. */
    public Hypervisor.Placement placement() {
        return new Hypervisor.Placement(cgroup.launchPrefix(), cgroup::adopt, cgroup.containerParent());
    }

    /**
     * Mounts container {@code containerId}'s root filesystem (containerd's {@code mounts} on
     * {@code <bundle>/rootfs}, or the bundle's own root directory when there are none) and shares it
     * with the agent; returns the path the agent must use as the container's root. Undone on failure.
     */
    public Path addContainerRootfs(String containerId, Bundle bundle, List<Mount> mounts) throws IOException {
        RootfsMounts mounted = new RootfsMounts(bundle.mountedRoot(), mounts);
        mounted.mount();
        try {
            Path hostRoot = mounted.isEmpty() ? bundle.rootPath() : bundle.mountedRoot();
            Path agentRoot = share.shareRootfs(containerId, hostRoot);
            rootfs.put(containerId, mounted);
            return agentRoot;
        } catch (IOException | RuntimeException e) {
            mounted.unmount();
            throw e;
        }
    }

    /**
     * The storages the sandbox itself needs in a guest (the pod's /dev/shm), decided from the
     * sandbox container's mounts; none for a host agent.
     */
    public List<Storage> sandboxStorages(List<dev.katashim.protocols.kata.agent.Mount> sandboxMounts) throws IOException {
        if (volumes == null) {
            return List.of();
        }
        shm = PodShm.of(sandboxMounts);
        return shm.storage().stream().toList();
    }

    /**
     * The container's mounts as the agent must make them: host binds shared into the guest, /dev/shm
     * the pod's (a host agent takes them as they are). Undone by {@link #removeContainer}.
     */
    public List<dev.katashim.protocols.kata.agent.Mount> addContainerVolumes(String containerId,
            List<dev.katashim.protocols.kata.agent.Mount> mounts) throws IOException {
        return volumes == null ? mounts : volumes.share(containerId, mounts, shm);
    }

    /** Gives back what {@link #addContainerRootfs} and {@link #addContainerVolumes} took: the shares first, then the mounts under them. */
    public void removeContainer(String containerId) {
        if (volumes != null) {
            volumes.unshare(containerId);
        }
        RootfsMounts mounted = rootfs.remove(containerId);
        if (mounted != null) {
            share.unshareRootfs(containerId);
            mounted.unmount();
        }
    }

    /** At teardown, once the hypervisor is gone: every container's rootfs, then the cgroup. */
    public void release() {
        for (String containerId : List.copyOf(rootfs.keySet())) {
            removeContainer(containerId);
        }
        if (subtree != null) {
            subtree.remove();
        }
        cgroup.remove();
    }

    /** After a dead shim ({@code delete}): a bundle's rootfs, if still mounted. */
    public static void unmountLeftoverRootfs(Path bundle) throws IOException {
        RootfsMounts.unmountLeftover(bundle.resolve("rootfs"));
    }

    /** After a dead shim, once its processes are killed: the sandbox's cgroups ({@code recorded}: the one its directory names). */
    public static void removeLeftoverCgroups(String sandboxId, java.util.Optional<String> recorded) throws IOException {
        SandboxCgroup.removeLeftover(sandboxId, recorded);
    }
}
