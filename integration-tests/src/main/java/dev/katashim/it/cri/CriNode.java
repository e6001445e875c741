package dev.katashim.it.cri;

import dev.katashim.cri.CriClient;
import dev.katashim.cri.CriMethods;
import dev.katashim.cri.v1.ContainerConfig;
import dev.katashim.cri.v1.ContainerMetadata;
import dev.katashim.cri.v1.ImageSpec;
import dev.katashim.cri.v1.LinuxPodSandboxConfig;
import dev.katashim.cri.v1.LinuxSandboxSecurityContext;
import dev.katashim.cri.v1.NamespaceMode;
import dev.katashim.cri.v1.NamespaceOption;
import dev.katashim.cri.v1.PodSandbox;
import dev.katashim.cri.v1.PodSandboxConfig;
import dev.katashim.cri.v1.PodSandboxMetadata;
import dev.katashim.cri.v1.RemovePodSandboxRequest;
import dev.katashim.cri.v1.StopPodSandboxRequest;
import dev.katashim.it.support.CommandResult;
import dev.katashim.it.support.PrivateContainerd;
import dev.katashim.it.support.ShimSockets;
import dev.katashim.it.support.TempDirs;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * A Kubernetes node without kubelet: a private containerd with its CRI plugin, handlers {@code runc}
 * and {@code kata} (our shim, by {@code runtime_type = "io.containerd.kata.v2"} and a ConfigPath),
 * a busybox image and a pause stand-in imported into {@code k8s.io}, host network (no CNI), and a
 * CRI client. Pods' cgroups go under {@code /<containerd's namespace>}, which the containerd's
 * close sweeps; {@link #close()} removes the pods through the CRI first, as kubelet would.
 */
public final class CriNode implements AutoCloseable {
    public static final String KATA = "kata";
    public static final String RUNC = "runc";
    public static final String BUSYBOX = "katashim.test/busybox:1";
    public static final String PAUSE = "katashim.test/pause:1";
    /** The CRI plugin of containerd 1.6 keeps everything in this namespace, whatever else is configured. */
    public static final String CRI_NAMESPACE = "k8s.io";
    /** Each CRI call's deadline: kubelet's default --runtime-request-timeout is 2 min; a TCG boot on a loaded machine may pass it. */
    public static final Duration CALL_TIMEOUT = Duration.ofMinutes(4);
    private static final Duration IMPORT_TIMEOUT = Duration.ofMinutes(2);
    private static final Duration CLEANUP_CALL_TIMEOUT = Duration.ofMinutes(2);

    private final Path dir;
    private final PrivateContainerd containerd;
    private final CriClient cri;

    private CriNode(Path dir, PrivateContainerd containerd, CriClient cri) {
        this.dir = dir;
        this.containerd = containerd;
        this.cri = cri;
    }

    public static Builder builder(Path repo) {
        return new Builder(repo);
    }

    public CriClient cri() {
        return cri;
    }

    public PrivateContainerd containerd() {
        return containerd;
    }

    /** The cgroup parent the pods get (kubelet's pod cgroup stands here). */
    public String cgroupParent() {
        return "/" + containerd.namespace();
    }

    /** Where pod logs go: {@code <dir>/logs/<pod name>}. */
    public Path logDirectory(String podName) {
        return dir.resolve("logs").resolve(podName);
    }

    /** The sandbox directories our shim keeps (KATA_SHIM_SANDBOX_ROOT of {@link PrivateContainerd}). */
    public Path sandboxRoot() {
        return containerd.directory().resolve("sbs");
    }

    /** A pod as kubelet describes one with hostNetwork: true (no hostname then: the node's UTS is shared); a fresh uid each time. */
    public PodSandboxConfig.Builder pod(String name) {
        String uid = UUID.randomUUID().toString();
        return PodSandboxConfig.newBuilder()
                .setMetadata(PodSandboxMetadata.newBuilder().setName(name).setNamespace("kt").setUid(uid))
                .setLogDirectory(logDirectory(name).toString())
                .putLabels("app", name)
                .setLinux(LinuxPodSandboxConfig.newBuilder()
                        .setCgroupParent(cgroupParent() + "/pod" + uid)
                        .setSecurityContext(LinuxSandboxSecurityContext.newBuilder()
                                .setNamespaceOptions(NamespaceOption.newBuilder()
                                        .setNetwork(NamespaceMode.NODE)
                                        .setPid(NamespaceMode.CONTAINER)
                                        .setIpc(NamespaceMode.POD))));
    }

    /** A busybox container running {@code command}, logging to {@code <name>.log} in its pod's log directory. */
    public static ContainerConfig.Builder container(String name, String... command) {
        return ContainerConfig.newBuilder()
                .setMetadata(ContainerMetadata.newBuilder().setName(name))
                .setImage(ImageSpec.newBuilder().setImage(BUSYBOX))
                .addAllCommand(List.of(command))
                .setLogPath(name + ".log");
    }

    /** {@code ctr -n k8s.io ...}: what the CRI plugin made, seen from containerd. */
    public CommandResult ctr(String... args) {
        return containerd.ctrInNamespace(CRI_NAMESPACE, IMPORT_TIMEOUT, args);
    }

    /** Stops and removes every pod through the CRI, then the containerd and all it left; throws listing leftovers. */
    @Override
    public void close() {
        List<String> problems = new ArrayList<>();
        try {
            for (PodSandbox pod : cri.listPodSandbox().getItemsList()) {
                try {
                    cri.call(CriMethods.STOP_POD_SANDBOX, StopPodSandboxRequest.newBuilder()
                            .setPodSandboxId(pod.getId()).build(), CLEANUP_CALL_TIMEOUT);
                    cri.call(CriMethods.REMOVE_POD_SANDBOX, RemovePodSandboxRequest.newBuilder()
                            .setPodSandboxId(pod.getId()).build(), CLEANUP_CALL_TIMEOUT);
                } catch (RuntimeException e) {
                    problems.add("pod " + pod.getId() + " left for the sweep: " + e.getMessage());
                }
            }
        } catch (RuntimeException e) {
            problems.add("ListPodSandbox: " + e.getMessage());
        } finally {
            cri.close();
        }
        // the containerd's own sweep knows its private namespace only: k8s.io shims that died leave their sockets
        List<String> tasks = taskBundles();
        try {
            containerd.close();
        } catch (RuntimeException e) {
            problems.add(e.getMessage());
        }
        for (String id : tasks) {
            Path socket = ShimSockets.pathFor(containerd.grpcAddress(), CRI_NAMESPACE, id);
            try {
                if (Files.deleteIfExists(socket)) {
                    problems.add("shim socket " + socket + " of " + id + " was left (removed)");
                }
            } catch (IOException e) {
                problems.add("cannot remove " + socket + ": " + e);
            }
        }
        try {
            TempDirs.deleteRecursively(dir);
        } catch (RuntimeException e) {
            problems.add("delete " + dir + ": " + e.getMessage());
        }
        if (!problems.isEmpty()) {
            throw new IllegalStateException("CRI node left things behind:\n  " + String.join("\n  ", problems));
        }
    }

    /** The ids of the tasks containerd still has bundles for in {@code k8s.io}: none once every pod is removed. */
    private List<String> taskBundles() {
        Path bundles = containerd.state().resolve("io.containerd.runtime.v2.task").resolve(CRI_NAMESPACE);
        if (!Files.isDirectory(bundles)) {
            return List.of();
        }
        try (var list = Files.list(bundles)) {
            return list.map(p -> p.getFileName().toString()).toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    /** How to start a {@link CriNode}. */
    public static final class Builder {
        private final Path repo;
        private final Map<String, Path> kataHandlers = new LinkedHashMap<>();
        private String logLevel = "info";

        private Builder(Path repo) {
            this.repo = repo.toAbsolutePath();
        }

        /** A handler with {@code runtime_type = "io.containerd.kata.v2"} reading {@code config} (ConfigPath). */
        public Builder kataHandler(String name, Path config) {
            kataHandlers.put(name, config.toAbsolutePath());
            return this;
        }

        public Builder logLevel(String level) {
            logLevel = level;
            return this;
        }

        public CriNode start() {
            Path dir = TempDirs.createShort("kn");
            PrivateContainerd containerd = null;
            try {
                Path runcRoot = Files.createDirectories(dir.resolve("runc"));
                Path cniConf = Files.createDirectories(dir.resolve("cni/net.d"));
                Path cniBin = Files.createDirectories(dir.resolve("cni/bin"));
                Path archive = OciImageArchive.build(Files.createDirectories(dir.resolve("image")), List.of(
                        new OciImageArchive.Image(BUSYBOX, List.of("/bin/sh")),
                        // the pause stand-in: waits, and ends on the TERM a stopping pod gets
                        new OciImageArchive.Image(PAUSE, List.of("/bin/sh", "-c", "trap 'exit 0' TERM INT; sleep 2147483647 & wait"))));
                containerd = PrivateContainerd.builder()
                        .prependToPath(repo.resolve("bin"))
                        .enableCri(true)
                        .logLevel(logLevel)
                        .criSettings(CriPluginToml.settings(PAUSE))
                        .extraToml(CriPluginToml.runtimes(runcRoot, kataHandlers) + CriPluginToml.cni(cniBin, cniConf))
                        .start();
                CommandResult imported = containerd.ctrInNamespace(CRI_NAMESPACE, IMPORT_TIMEOUT,
                        "images", "import", archive.toString());
                if (!imported.succeeded()) {
                    throw new IllegalStateException("ctr images import failed: " + imported);
                }
                return new CriNode(dir, containerd, CriClient.connect(containerd.grpcAddress(), CALL_TIMEOUT));
            } catch (IOException | RuntimeException e) {
                if (containerd != null) {
                    try {
                        containerd.close();
                    } catch (RuntimeException suppressed) {
                        e.addSuppressed(suppressed);
                    }
                }
                TempDirs.deleteRecursively(dir);
                if (e instanceof IOException io) {
                    throw new UncheckedIOException(io);
                }
                throw (RuntimeException) e;
            }
        }
    }
}
