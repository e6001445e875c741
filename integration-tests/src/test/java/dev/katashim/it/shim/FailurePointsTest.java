package dev.katashim.it.shim;

import dev.katashim.it.peers.TaskApiClient;
import dev.katashim.it.support.BackgroundCommand;
import dev.katashim.it.support.BusyboxRootfs;
import dev.katashim.it.support.CommandResult;
import dev.katashim.it.support.PrivateContainerd;
import dev.katashim.it.support.Processes;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static dev.katashim.it.shim.VmPod.BOOT_DEADLINE;
import static dev.katashim.it.shim.VmPod.VM_DEADLINE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * No orphan, whatever fails: every way a VM sandbox can be abandoned leaves nothing on the host
 * (no process, mount, cgroup, socket, network device or directory: {@link SandboxLeftovers}, and
 * the host's network interfaces as they were, since the shim gives QEMU no network device). Each
 * failure is caused for real, through a private containerd and ctr, one VM at a time. The points
 * on the way of a sandbox, and the test that checks the host after each:
 *
 * <table>
 * <tr><th>failure point</th><th>test</th></tr>
 * <tr><td>configuration does not load</td><td>{@link #aConfigurationThatDoesNotLoadFailsCreateNamingItAndLeavesNothing}</td></tr>
 * <tr><td>host resources: the share cannot be made</td><td>{@link #aShareThatCannotBeMadeFailsCreateNamingItAndLeavesNothing}</td></tr>
 * <tr><td>QEMU start: a file it needs is missing (after the cgroup was made)</td><td>{@link #aMissingKernelFailsCreateNamingItAndLeavesNothing}</td></tr>
 * <tr><td>QEMU start: QEMU exits at once (virtiofsd already running)</td><td>{@link #qemuExitingAtOnceTakesVirtiofsdAndTheSharedMountWithIt}</td></tr>
 * <tr><td>agent dial: the guest never answers</td><td>{@link #anAgentThatNeverAnswersFailsCreateAfterItsDialTimeoutAndLeavesNothing}</td></tr>
 * <tr><td>the shim exits (SIGTERM) while the VM boots</td><td>{@link #aShimTerminatedWhileItsVmBootsStopsTheBootAtOnceAndLeavesNothing}</td></tr>
 * <tr><td>Shutdown before a Create took the early boot, or while a Create waits for its boot</td><td>shim-core ShimSandboxesShutdownTest (no VM)</td></tr>
 * <tr><td>CreateSandbox step: the sandbox container's prestart hook fails</td><td>OciHooksInVmTest#aFailingHookOfASandboxContainerFailsItsCreateAndLeavesNoSandbox</td></tr>
 * <tr><td>guest CreateContainer refuses the sandbox container</td><td>{@link #aSandboxContainerTheGuestRefusesLeavesNothing}</td></tr>
 * <tr><td>StartContainer fails: the executable is missing from the image</td><td>{@link #aSandboxContainerWhoseExecutableIsMissingLeavesNothing}</td></tr>
 * <tr><td>a pod member's Create or Start fails (the sandbox lives on)</td><td>{@link #membersThatFailToBeCreatedOrStartedLeaveNothingAndThePodRuns}</td></tr>
 * <tr><td>the shim exits (SIGTERM) while its pod runs</td><td>{@link #aShimTerminatedWhileItsPodRunsTearsTheSandboxDownAndLeavesNothing}</td></tr>
 * <tr><td>the shim is killed (SIGKILL); delete after the dead shim</td><td>HostSideFaultsTest#theShimKilledTakesQemuWithItAndRmLeavesNothing</td></tr>
 * <tr><td>QEMU killed while the pod runs</td><td>KataQemuEndToEndTest#metricsThenQemuKilledEndsTheContainerAndLeavesNothing (processes, mounts, directory)</td></tr>
 * <tr><td>the guest agent dies</td><td>GuestAgentDeathTest#everyProcessExits255TheSandboxIsTornDownAndNothingIsLeft</td></tr>
 * <tr><td>the guest kernel panics</td><td>GuestKernelPanicTest#everyProcessExits255TheLogNamesThePanicAndNothingIsLeft</td></tr>
 * <tr><td>Shutdown: the pod's end as asked (kill, rm), virtio-fs</td><td>VirtioFsEndToEndTest#thePodsEndTakesVirtiofsdWithItAndLeavesNothing</td></tr>
 * <tr><td>Shutdown: {@code ctr run --rm} of VMs booted at once</td><td>ConcurrentVmsTest#fourVmsAtOnceEachRunItsContainerAndLeaveNothing</td></tr>
 * <tr><td>StopSandbox and ShutdownSandbox (containerd 2's Sandbox API)</td><td>Containerd2QemuTest#aPodInAVmThroughTheSandboxApiAndTaskV3 (processes, socket, directory)</td></tr>
 * </table>
 *
 * One containerd serves every test; a test that needs its own Kata configuration passes it with
 * {@code ctr run --runtime-config-path}. Only the pod is shared by tests: its members' failures
 * leave it running, and its shim's end comes last.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FailurePointsTest {
    /** A Create that fails before a guest could answer: a shim JVM's start and QEMU's, on a loaded machine. */
    private static final Duration EARLY_FAILURE_DEADLINE = Duration.ofMinutes(3);
    /** How long the shim waits for the agent of a guest that boots a shell instead of its init. */
    private static final int SHORT_DIAL_TIMEOUT_SECONDS = 10;
    /**
     * A shim given SIGTERM undoes its sandbox within seconds; this is far below the dial timeout
     * ({@link VmPod#AGENT_DIAL_TIMEOUT_SECONDS}) a boot left to itself would wait out.
     */
    private static final Duration TERMINATED_SHIM_DEADLINE = Duration.ofMinutes(2);
    private static final Path NETWORK_INTERFACES = Path.of("/sys/class/net");

    private static Path dir;
    private static PrivateContainerd containerd;
    private static String rootfs;
    private static Set<String> interfacesBefore;
    private static VmPod pod;

    @BeforeAll
    static void start(@TempDir Path tempDir) throws IOException {
        dir = tempDir;
        interfacesBefore = networkInterfaces();
        containerd = VmPod.containerd(VmPod.kataConfig(dir.resolve("default"), "virtio-9p"));
        rootfs = BusyboxRootfs.create(dir.resolve("rootfs")).path().toString();
    }

    @AfterAll
    static void stop() {
        if (containerd != null) {
            containerd.close();
        }
    }

    /** {@code ctr run --rm} of {@code command} in a sandbox of its own, with {@code options} (ctr run flags). */
    private static CommandResult run(String id, Duration deadline, List<String> options, String... command) {
        List<String> args = new ArrayList<>(List.of("run", "--rm", "--runtime", VmPod.RUNTIME));
        args.addAll(options);
        args.addAll(List.of("--rootfs", rootfs, id));
        args.addAll(List.of(command));
        return containerd.ctrWithInput(new byte[0], deadline, args.toArray(String[]::new));
    }

    /** The flag that makes a sandbox read {@code config} instead of containerd's KATA_CONF_FILE. */
    private static List<String> configuredBy(Path config) {
        return List.of("--runtime-config-path", config.toString());
    }

    /** A QEMU configuration (this checkout's guest image) in a directory of its own. */
    private static Path qemuConfig(String name, String sharedFs, String extra, int dialTimeoutSeconds) {
        return KataConfigs.qemu(dir.resolve(name), VmPod.repo(), sharedFs, extra, dialTimeoutSeconds);
    }

    private static Path sandboxDirectory(String id) {
        return containerd.directory().resolve("sbs").resolve(id);
    }

    private static Set<String> networkInterfaces() throws IOException {
        try (Stream<Path> interfaces = Files.list(NETWORK_INTERFACES)) {
            return interfaces.map(p -> p.getFileName().toString()).collect(Collectors.toSet());
        }
    }

    private static void assertNothingLeft(String sandboxId) throws IOException {
        SandboxLeftovers.assertNone(containerd, sandboxId);
        assertThat(networkInterfaces()).as("the host's network interfaces").isEqualTo(interfacesBefore);
    }

    @Test
    @Order(1)
    void aConfigurationThatDoesNotLoadFailsCreateNamingItAndLeavesNothing() throws Exception {
        Path config = KataConfigs.write(dir.resolve("broken").resolve("configuration.toml"), "[hypervisor.qemu]\nkernel = = \"/k\"\n");
        String id = containerd.uniqueId("cfg");
        CommandResult run = run(id, EARLY_FAILURE_DEADLINE, configuredBy(config), "/bin/true");
        assertThat(run.exitCode()).as(run.toString()).isNotZero();
        assertThat(run.stderr()).contains("syntax error in " + config + ":2:");
        assertNothingLeft(id);
    }

    @Test
    @Order(2)
    void aShareThatCannotBeMadeFailsCreateNamingItAndLeavesNothing() throws Exception {
        String id = containerd.uniqueId("share");
        // a file where the sandbox's shared directory goes: what a crash or another tool may leave there
        Path shared = sandboxDirectory(id).resolve("shared");
        Files.createDirectories(shared.getParent());
        Files.writeString(shared, "in the way\n");
        CommandResult run = run(id, EARLY_FAILURE_DEADLINE, List.of(), "/bin/true");
        assertThat(run.exitCode()).as(run.toString()).isNotZero();
        assertThat(run.stderr()).contains("cannot make " + shared + ", the directory shared with the guest: a file is in the way");
        assertNothingLeft(id);
    }

    @Test
    @Order(3)
    void aMissingKernelFailsCreateNamingItAndLeavesNothing() throws Exception {
        Path guest = KataConfigs.guestImage(VmPod.repo());
        Path config = KataConfigs.write(dir.resolve("no-kernel").resolve("configuration.toml"), "[hypervisor.qemu]\n"
                + "kernel = \"" + dir.resolve("no-such-vmlinuz") + "\"\ninitrd = \"" + guest.resolve("initramfs.img") + "\"\n");
        String id = containerd.uniqueId("kernel");
        CommandResult run = run(id, EARLY_FAILURE_DEADLINE, configuredBy(config), "/bin/true");
        assertThat(run.exitCode()).as(run.toString()).isNotZero();
        assertThat(run.stderr()).contains("guest kernel").contains(dir.resolve("no-such-vmlinuz").toString());
        assertNothingLeft(id);
    }

    @Test
    @Order(4)
    void qemuExitingAtOnceTakesVirtiofsdAndTheSharedMountWithIt() throws Exception {
        // QEMU itself refuses a "kernel" that is a text file, once virtiofsd serves the share
        Path notAKernel = Files.writeString(dir.resolve("not-a-kernel"), "this is not a kernel\n");
        Path config = qemuConfig("bad-kernel", "virtio-fs", "", VmPod.AGENT_DIAL_TIMEOUT_SECONDS);
        Files.writeString(config, Files.readString(config).replace(
                KataConfigs.guestImage(VmPod.repo()).resolve("vmlinuz").toString(), notAKernel.toString()));
        String id = containerd.uniqueId("qemu");
        CommandResult run = run(id, EARLY_FAILURE_DEADLINE, configuredBy(config), "/bin/true");
        assertThat(run.exitCode()).as(run.toString()).isNotZero();
        assertThat(run.stderr()).contains("QEMU /usr/bin/qemu-system-x86_64 failed to start").contains("kernel");
        assertNothingLeft(id);
    }

    @Test
    @Order(5)
    void anAgentThatNeverAnswersFailsCreateAfterItsDialTimeoutAndLeavesNothing() throws Exception {
        // the guest boots a shell instead of its init: no agent ever listens
        Path config = qemuConfig("no-agent", "virtio-fs", "kernel_params = \"rdinit=/bin/sh\"", SHORT_DIAL_TIMEOUT_SECONDS);
        String id = containerd.uniqueId("dial");
        CommandResult run = run(id, EARLY_FAILURE_DEADLINE, configuredBy(config), "/bin/true");
        assertThat(run.exitCode()).as(run.toString()).isNotZero();
        assertThat(run.stderr()).contains("did not answer within " + SHORT_DIAL_TIMEOUT_SECONDS * 1000 + " ms").contains("console.log");
        assertNothingLeft(id);
    }

    @Test
    @Order(6)
    void aShimTerminatedWhileItsVmBootsStopsTheBootAtOnceAndLeavesNothing() throws Exception {
        // a guest whose agent never answers: the boot lasts the whole dial timeout unless it is stopped
        Path config = qemuConfig("never-up", "virtio-9p", "kernel_params = \"rdinit=/bin/sh\"", VmPod.AGENT_DIAL_TIMEOUT_SECONDS);
        String id = containerd.uniqueId("term");
        List<String> args = new ArrayList<>(List.of("run", "-d", "--runtime", VmPod.RUNTIME));
        args.addAll(configuredBy(config));
        args.addAll(List.of("--rootfs", rootfs, id, "/bin/true"));
        try (BackgroundCommand ctrRun = containerd.ctrInBackground(args.toArray(String[]::new))) {
            Path hypervisorPid = sandboxDirectory(id).resolve("hypervisor.pid");
            await().atMost(EARLY_FAILURE_DEADLINE).until(() -> Files.exists(hypervisorPid) || !ctrRun.isAlive());
            assertThat(hypervisorPid).as("QEMU started; ctr says: %s", ctrRun.output()).exists();
            long shim = Long.parseLong(Files.readString(sandboxDirectory(id).resolve("shim.pid")).trim());

            assertThat(ProcessHandle.of(shim).orElseThrow().destroy()).isTrue(); // SIGTERM
            assertThat(Processes.awaitGone(List.of(shim), TERMINATED_SHIM_DEADLINE)).as("the shim still running").isEmpty();
            assertThat(ctrRun.awaitExit(TERMINATED_SHIM_DEADLINE)).as(ctrRun.output()).isNotZero();
        }
        CommandResult rm = containerd.ctr("c", "rm", id);
        assertThat(rm.exitCode()).as(rm.toString()).isZero();
        assertNothingLeft(id);
    }

    @Test
    @Order(7)
    void aSandboxContainerTheGuestRefusesLeavesNothing() throws Exception {
        // a /dev path is the guest's own: the host shares nothing for it, and the guest has no such device
        String id = containerd.uniqueId("refused");
        CommandResult run = run(id, BOOT_DEADLINE, List.of("--mount", "type=bind,src=/dev/kata-no-such-device,dst=/x,options=rbind"),
                "/bin/true");
        assertThat(run.exitCode()).as(run.toString()).isNotZero();
        assertThat(run.stderr()).as(run + "\n" + containerd.log()).contains("has no source").contains("/dev/kata-no-such-device");
        assertNothingLeft(id);
    }

    @Test
    @Order(8)
    void aSandboxContainerWhoseExecutableIsMissingLeavesNothing() throws Exception {
        String id = containerd.uniqueId("noexec");
        CommandResult run = run(id, BOOT_DEADLINE, List.of(), "/bin/no-such-program");
        assertThat(run.exitCode()).as(run.toString()).isNotZero();
        assertThat(run.stderr()).as(run + "\n" + containerd.log()).contains("/bin/no-such-program");
        assertNothingLeft(id);
    }

    @Test
    @Order(9)
    void membersThatFailToBeCreatedOrStartedLeaveNothingAndThePodRuns() throws Exception {
        pod = VmPod.startIn(containerd, dir.resolve("pod"));
        assertMemberFails(List.of("--mount", "type=bind,src=/dev/kata-no-such-device,dst=/x,options=rbind"), List.of("/bin/true"),
                "has no source");
        assertMemberFails(List.of("--mount", "type=bind,src=" + dir.resolve("no-such-dir") + ",dst=/x,options=rbind"),
                List.of("/bin/true"), "bind mount source " + dir.resolve("no-such-dir") + " (for /x) does not exist");
        assertMemberFails(List.of(), List.of("/bin/no-such-program"), "/bin/no-such-program");

        assertThat(pod.exec(pod.id, "echo alive").stdout()).isEqualTo("alive\n");
        assertThat(pod.taskStatus(pod.id)).isEqualTo("RUNNING");
    }

    /** A member run with {@code options} fails naming {@code problem}: no task, nothing of it mounted or shared on the host. */
    private static void assertMemberFails(List<String> options, List<String> command, String problem) throws IOException {
        String member = containerd.uniqueId("member");
        List<String> flags = new ArrayList<>(List.of("--rm"));
        flags.addAll(options);
        CommandResult run = pod.ctr(pod.member(member, flags, command).toArray(String[]::new));
        assertThat(run.exitCode()).as(run.toString()).isNotZero();
        assertThat(run.stderr()).as(run + "\n" + containerd.log()).contains(problem);
        assertThat(pod.taskStatus(member)).isEqualTo("GONE");
        assertThat(Files.readAllLines(Path.of("/proc/self/mountinfo")).stream().filter(l -> l.contains(member)))
                .as("mounts of member %s", member).isEmpty();
        try (Stream<Path> shared = Files.list(sandboxDirectory(pod.id).resolve("shared"))) {
            assertThat(shared.map(p -> p.getFileName().toString())).as("the pod's shares").noneMatch(n -> n.startsWith(member));
        }
    }

    @Test
    @Order(10)
    void aShimTerminatedWhileItsPodRunsTearsTheSandboxDownAndLeavesNothing() throws Exception {
        assertThat(pod).as("the pod the previous test started").isNotNull();
        long shim;
        try (TaskApiClient api = pod.taskApi()) {
            shim = api.connect(pod.id).getShimPid();
        }
        long qemu = pod.hypervisorPid();

        assertThat(ProcessHandle.of(shim).orElseThrow().destroy()).isTrue(); // SIGTERM
        assertThat(Processes.awaitGone(List.of(shim, qemu), TERMINATED_SHIM_DEADLINE)).as("the shim and QEMU still running").isEmpty();
        // containerd learns of it from the shim's connection, runs the shim's delete and drops the task
        await().atMost(VM_DEADLINE).until(() -> pod.taskStatus(pod.id).equals("GONE"));
        CommandResult rm = pod.ctr("c", "rm", pod.id);
        assertThat(rm.exitCode()).as(rm.toString()).isZero();
        assertNothingLeft(pod.id);
    }
}
