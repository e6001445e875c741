package dev.katashim.it.shim;

import dev.katashim.it.peers.TaskApiClient;
import dev.katashim.it.support.BusyboxRootfs;
import dev.katashim.it.support.CommandResult;
import dev.katashim.it.support.PrivateContainerd;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A pod in one QEMU VM (TCG here) through a private containerd and ctr, as Kubernetes makes one:
 * a sandbox container ({@code io.kubernetes.cri.container-type=sandbox}) whose shim boots the VM,
 * and members joined to it through the CRI annotations. Each VM costs ~20 s to boot under TCG:
 * tests share one where the semantics allow.
 */
final class VmPod implements AutoCloseable {
    /**
     * How long the shim waits for the guest's agent (dial_timeout): a TCG guest boots in 30-50 s on
     * a loaded 2-core machine, and took over 120 s while other TCG guests ran beside it.
     */
    static final int AGENT_DIAL_TIMEOUT_SECONDS = 300;
    /** A ctr command that boots a VM: the agent's dial timeout, then the container's own work. */
    static final Duration BOOT_DEADLINE = Duration.ofSeconds(AGENT_DIAL_TIMEOUT_SECONDS).plusMinutes(2);
    /** Anything one ctr command or Task RPC does in a running VM under TCG, on a loaded machine. */
    static final Duration VM_DEADLINE = Duration.ofMinutes(3);
    static final String RUNTIME = KataQemuEndToEndTest.RUNTIME;
    static final List<String> SLEEP_FOREVER = List.of("/bin/sh", "-c", "while :; do sleep 1; done");

    final PrivateContainerd containerd;
    final String rootfs;
    final String id;

    private VmPod(PrivateContainerd containerd, String rootfs, String id) {
        this.containerd = containerd;
        this.rootfs = rootfs;
        this.id = id;
    }

    /** The repository's root: the tests run in integration-tests/. */
    static Path repo() {
        return Path.of("").toAbsolutePath().getParent();
    }

    /** A Kata configuration in {@code dir} booting this checkout's guest image, sharing files over {@code sharedFs}. */
    static Path kataConfig(Path dir, String sharedFs) {
        assertThat(KataConfigs.guestImage(repo()).resolve("initramfs.img"))
                .as("the guest image (scripts/setup builds it with scripts/build-guest-image)").exists();
        return KataConfigs.qemu(dir, repo(), sharedFs, "", AGENT_DIAL_TIMEOUT_SECONDS);
    }

    /** A containerd whose shims read {@code kataConfig}. */
    static PrivateContainerd containerd(Path kataConfig) {
        return PrivateContainerd.builder().prependToPath(repo().resolve("bin"))
                .environment("KATA_CONF_FILE", kataConfig.toString()).start();
    }

    /** {@link #start(Path, Path, String...)} over virtio-9p, the shipped configuration's choice. */
    static VmPod start(Path dir, String... sandboxOptions) {
        return start(dir, kataConfig(dir, "virtio-9p"), sandboxOptions);
    }

    /**
     * Starts a containerd and a pod whose sandbox container runs forever with {@code sandboxOptions}
     * (extra ctr run flags); on failure the containerd is closed again.
     */
    static VmPod start(Path dir, Path kataConfig, String... sandboxOptions) {
        PrivateContainerd containerd = containerd(kataConfig);
        try {
            return startIn(containerd, dir, sandboxOptions);
        } catch (RuntimeException | Error e) {
            containerd.close();
            throw e;
        }
    }

    /**
     * The same in a {@code containerd} already running, with its configuration; its busybox root in
     * {@code dir}. Closing the pod closes that containerd too.
     */
    static VmPod startIn(PrivateContainerd containerd, Path dir, String... sandboxOptions) {
        String rootfs = BusyboxRootfs.create(dir.resolve("rootfs")).path().toString();
        VmPod pod = new VmPod(containerd, rootfs, containerd.uniqueId("pod"));
        List<String> run = new ArrayList<>(List.of("run", "-d", "--runtime", RUNTIME,
                "--annotation", "io.kubernetes.cri.container-type=sandbox"));
        run.addAll(List.of(sandboxOptions));
        run.addAll(List.of("--rootfs", rootfs, pod.id));
        run.addAll(SLEEP_FOREVER);
        CommandResult started = containerd.ctrWithInput(new byte[0], BOOT_DEADLINE, run.toArray(String[]::new));
        assertThat(started.exitCode()).as(started + "\n" + containerd.log()).isZero();
        return pod;
    }

    CommandResult ctr(String... args) {
        return containerd.ctrWithInput(new byte[0], VM_DEADLINE, args);
    }

    /** {@code ctr task exec} of a shell script in {@code container}, with a fresh exec id. */
    CommandResult exec(String container, String script) {
        return ctr("task", "exec", "--exec-id", containerd.uniqueId("x"), container, "/bin/sh", "-c", script);
    }

    /** The ctr run arguments of a member of this pod: {@code options} (ctr run flags), then the command. */
    List<String> member(String memberId, List<String> options, List<String> command) {
        List<String> args = new ArrayList<>(List.of("run", "--runtime", RUNTIME,
                "--annotation", "io.kubernetes.cri.container-type=container", "--annotation", "io.kubernetes.cri.sandbox-id=" + id));
        args.addAll(options);
        args.addAll(List.of("--rootfs", rootfs, memberId));
        args.addAll(command);
        return args;
    }

    /** Runs a member detached, running forever; asserts it started. */
    String startMember(String prefix, String... options) {
        String memberId = containerd.uniqueId(prefix);
        List<String> flags = new ArrayList<>(List.of("-d"));
        flags.addAll(List.of(options));
        CommandResult run = ctr(member(memberId, flags, SLEEP_FOREVER).toArray(String[]::new));
        assertThat(run.exitCode()).as(run + "\n" + containerd.log()).isZero();
        return memberId;
    }

    /** A task's STATUS column in {@code ctr task ls}; GONE when it is not listed. */
    String taskStatus(String taskId) {
        return ctr("task", "ls").stdout().lines().filter(l -> l.startsWith(taskId + " "))
                .map(l -> l.trim().split("\\s+")[2]).findFirst().orElse("GONE");
    }

    /** Kills a member, deletes its task and its container. */
    void stopMember(String memberId) {
        ctr("task", "kill", "-s", "KILL", memberId);
        await().atMost(VM_DEADLINE).until(() -> ctr("task", "rm", memberId).exitCode() == 0);
        assertThat(ctr("c", "rm", memberId).exitCode()).isZero();
    }

    /** The Task API of the pod's shim, as containerd calls it, with {@link #VM_DEADLINE} per call. */
    TaskApiClient taskApi() throws IOException {
        return TaskApiClient.connect(containerd.shimSocket(id), containerd.namespace(), 2, VM_DEADLINE);
    }

    /** The shim's sandbox directory (KATA_SHIM_SANDBOX_ROOT/id). */
    Path sandboxDirectory() {
        return containerd.directory().resolve("sbs").resolve(id);
    }

    /** QEMU's pid, as the sandbox directory records it. */
    long hypervisorPid() throws IOException {
        return Long.parseLong(Files.readString(sandboxDirectory().resolve("hypervisor.pid")).trim());
    }

    @Override
    public void close() {
        containerd.close();
    }
}
