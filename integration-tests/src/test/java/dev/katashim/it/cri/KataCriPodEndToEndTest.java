package dev.katashim.it.cri;

import dev.katashim.cri.CriClient;
import dev.katashim.cri.StreamingSession;
import dev.katashim.cri.v1.AttachRequest;
import dev.katashim.cri.v1.ContainerFilter;
import dev.katashim.cri.v1.ContainerState;
import dev.katashim.cri.v1.ContainerStats;
import dev.katashim.cri.v1.ExecRequest;
import dev.katashim.cri.v1.ExecSyncResponse;
import com.google.protobuf.ByteString;
import dev.katashim.cri.v1.Int64Value;
import dev.katashim.cri.v1.KeyValue;
import dev.katashim.cri.v1.LinuxContainerResources;
import dev.katashim.cri.v1.Mount;
import dev.katashim.cri.v1.PodSandboxConfig;
import dev.katashim.cri.v1.PodSandboxState;
import dev.katashim.cri.v1.PodSandboxStats;
import dev.katashim.cri.v1.PodSandboxStatsFilter;
import dev.katashim.cri.v1.PodSandboxStatusResponse;
import dev.katashim.it.shim.KataConfigs;
import dev.katashim.it.support.Processes;
import dev.katashim.metrics.monitor.KataMonitor;
import dev.katashim.metrics.monitor.SandboxRoot;
import dev.katashim.metrics.support.StrictPrometheusText;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Pods through containerd's CRI plugin, as kubelet drives them, with runtime handler {@code kata}:
 * our shim boots a QEMU VM (TCG here) for the pod's sandbox container and runs its containers in it.
 * One pod serves most tests (each boot costs ~20 s under TCG); the tests that end a pod run their own.
 */
class KataCriPodEndToEndTest {
    /** What a TCG guest on a loaded two-core machine may take for what it does on its own time. */
    static final Duration GUEST_DEADLINE = Duration.ofSeconds(90);
    /** How long the shim waits for a booting guest's agent: TCG boots took over 120 s with other guests beside. */
    static final int AGENT_DIAL_TIMEOUT_SECONDS = 200;
    /** ExecSync's own timeout for quick commands: the CRI kills the exec past it. */
    private static final Duration EXEC_TIMEOUT = Duration.ofSeconds(60);
    private static final String NO_KERNEL = "kata-nokernel";
    private static CriNode node;
    private static CriClient cri;
    private static PodSandboxConfig podConfig;
    private static String pod;
    private static String app;
    private static Path missingKernel;

    @BeforeAll
    static void startAPod(@TempDir Path dir) throws Exception {
        Path repo = Path.of("").toAbsolutePath().getParent();
        assertThat(KataConfigs.guestImage(repo).resolve("initramfs.img"))
                .as("the guest image (scripts/setup builds it with scripts/build-guest-image)").exists();
        missingKernel = dir.resolve("no-such-vmlinuz");
        Path broken = KataConfigs.write(dir.resolve("broken/configuration.toml"),
                Files.readString(KataConfigs.qemu(dir.resolve("broken"), repo, "", AGENT_DIAL_TIMEOUT_SECONDS))
                        .replace(KataConfigs.guestImage(repo).resolve("vmlinuz").toString(), missingKernel.toString()));
        node = CriNode.builder(repo)
                .kataHandler(CriNode.KATA, KataConfigs.qemu(dir, repo, "", AGENT_DIAL_TIMEOUT_SECONDS))
                .kataHandler(NO_KERNEL, broken)
                .start();
        cri = node.cri();
        podConfig = node.pod("web").build();
        pod = cri.runPodSandbox(podConfig, CriNode.KATA);
        app = startContainer(CriNode.container("app", "/bin/sh", "-c", "echo started; while :; do sleep 1; done").build());
    }

    @AfterAll
    static void stop() {
        if (node != null) {
            node.close();
        }
    }

    private static String startContainer(dev.katashim.cri.v1.ContainerConfig config) {
        String id = cri.createContainer(pod, config, podConfig);
        cri.startContainer(id);
        return id;
    }

    private static String stdout(ExecSyncResponse response) {
        return response.getStdout().toString(StandardCharsets.UTF_8);
    }

    private static String sh(String container, String script) {
        ExecSyncResponse result = cri.execSync(container, EXEC_TIMEOUT, "/bin/sh", "-c", script);
        assertThat(result.getExitCode()).as("%s: %s", script, result.getStderr().toStringUtf8()).isZero();
        return stdout(result);
    }

    private static void removeContainer(String id) {
        cri.stopContainer(id, 0);
        cri.removeContainer(id);
    }

    @Test
    void thePodIsReadyAndItsContainerRunsInTheGuestKernel() throws Exception {
        PodSandboxStatusResponse status = cri.podSandboxStatus(pod);
        assertThat(status.getStatus().getState()).isEqualTo(PodSandboxState.SANDBOX_READY);
        assertThat(status.getStatus().getRuntimeHandler()).isEqualTo(CriNode.KATA);
        assertThat(cri.containerStatus(app).getState()).isEqualTo(ContainerState.CONTAINER_RUNNING);
        assertThat(sh(app, "uname -r").trim()).isNotEqualTo(Files.readString(Path.of("/proc/sys/kernel/osrelease")).trim());
    }

    @Test
    void execSyncReturnsOutputAndExitCode() {
        ExecSyncResponse result = cri.execSync(app, EXEC_TIMEOUT, "/bin/sh", "-c", "echo out; echo err >&2; exit 3");
        assertThat(stdout(result)).isEqualTo("out\n");
        assertThat(result.getStderr().toStringUtf8()).isEqualTo("err\n");
        assertThat(result.getExitCode()).isEqualTo(3);
    }

    @Test
    void anExecSyncThatOutlivesItsTimeoutIsKilledAndSaysSo() {
        assertThatThrownBy(() -> cri.execSync(app, Duration.ofSeconds(2), "/bin/sleep", "600"))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getDescription()).contains("timeout 2s exceeded"));
        await().atMost(GUEST_DEADLINE).untilAsserted(() -> assertThat(sh(app, "ps -o args")).doesNotContain("sleep 600"));
        assertThat(sh(app, "echo alive")).isEqualTo("alive\n");
    }

    @Test
    void theContainersLogIsAtItsLogPathInTheCriFormat() {
        Path log = node.logDirectory("web").resolve("app.log");
        assertThat(cri.containerStatus(app).getLogPath()).isEqualTo(log.toString());
        await().atMost(GUEST_DEADLINE).untilAsserted(() -> assertThat(log).content()
                .containsPattern("(?m)^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d+(Z|[+-]\\d\\d:\\d\\d) stdout F started$"));
    }

    @Test
    void reopenContainerLogStartsANewFileAtTheLogPath() throws Exception {
        String ticker = startContainer(CriNode.container("ticker", "/bin/sh", "-c",
                "i=0; while :; do echo tick $i; i=$((i+1)); sleep 1; done").build());
        Path log = node.logDirectory("web").resolve("ticker.log");
        await().atMost(GUEST_DEADLINE).untilAsserted(() -> assertThat(log).content().contains("stdout F tick 1"));
        Path rotated = log.resolveSibling("ticker.log.1");
        Files.move(log, rotated);
        cri.reopenContainerLog(ticker);
        await().atMost(GUEST_DEADLINE).untilAsserted(() -> assertThat(log).exists().content().contains("stdout F tick"));
        assertThat(rotated).content().contains("stdout F tick 0");
        removeContainer(ticker);
    }

    @Test
    void statsOfTheContainerAndThePodAreNonZero() {
        sh(app, "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done"); // some CPU of the container's own
        await().atMost(GUEST_DEADLINE).untilAsserted(() -> {
            ContainerStats stats = cri.containerStats(app);
            assertThat(stats.getAttributes().getId()).isEqualTo(app);
            assertThat(stats.getMemory().getWorkingSetBytes().getValue()).isPositive();
            assertThat(stats.getCpu().getUsageCoreNanoSeconds().getValue()).isPositive();
        });
        await().atMost(GUEST_DEADLINE).untilAsserted(() -> {
            List<PodSandboxStats> pods = cri.listPodSandboxStats(PodSandboxStatsFilter.newBuilder().setId(pod).build()).getStatsList();
            assertThat(pods).hasSize(1);
            PodSandboxStats stats = pods.getFirst();
            assertThat(stats.getAttributes().getMetadata().getName()).isEqualTo("web");
            assertThat(stats.getLinux().getMemory().getWorkingSetBytes().getValue()).isPositive();
            assertThat(stats.getLinux().getCpu().getUsageCoreNanoSeconds().getValue()).isPositive();
            assertThat(stats.getLinux().getContainersList()).extracting(c -> c.getAttributes().getId()).contains(app);
        });
    }

    @Test
    void updateContainerResourcesSetsTheLimitsInTheGuest() {
        String limited = startContainer(CriNode.container("limited", "/bin/sh", "-c", "while :; do sleep 1; done").build());
        cri.updateContainerResources(limited, LinuxContainerResources.newBuilder()
                .setMemoryLimitInBytes(64L << 20).setCpuPeriod(100_000).setCpuQuota(50_000).build());
        // what a user checks: the container's own cgroup, read inside it (the guest has cgroup v2, all of it mounted)
        String own = "/sys/fs/cgroup$(cut -d: -f3 /proc/self/cgroup)";
        assertThat(sh(limited, "cat " + own + "/memory.max").trim()).isEqualTo(String.valueOf(64L << 20));
        assertThat(sh(limited, "cat " + own + "/cpu.max").trim()).isEqualTo("50000 100000");
        assertThat(cri.containerStatus(limited).getResources().getLinux().getMemoryLimitInBytes()).isEqualTo(64L << 20);
        removeContainer(limited);
    }

    @Test
    void twoContainersOfThePodShareOneShimAndOneVm() {
        String sidecar = startContainer(CriNode.container("sidecar", "/bin/sh", "-c", "while :; do sleep 1; done").build());
        String bootId = "cat /proc/sys/kernel/random/boot_id";
        assertThat(sh(sidecar, bootId)).isEqualTo(sh(app, bootId));
        assertThat(Processes.shimsServing(pod)).hasSize(1);
        assertThat(processesNaming(pod, "qemu-system")).hasSize(1);
        assertThat(Processes.shimsServing(sidecar)).isEmpty();
        removeContainer(sidecar);
    }

    @Test
    void stopAndRemoveContainerLeaveNothingOfItAndThePodRuns() {
        String shortLived = startContainer(CriNode.container("short", "/bin/sh", "-c", "while :; do sleep 1; done").build());
        cri.stopContainer(shortLived, 5);
        assertThat(cri.containerStatus(shortLived).getState()).isEqualTo(ContainerState.CONTAINER_EXITED);
        cri.removeContainer(shortLived);
        assertThat(cri.listContainers(ContainerFilter.newBuilder().setPodSandboxId(pod).build()).getContainersList())
                .extracting(c -> c.getId()).doesNotContain(shortLived);
        await().atMost(GUEST_DEADLINE).ignoreExceptions()
                .untilAsserted(() -> assertThat(PodLeftovers.of(node, shortLived)).isEmpty());
        assertThat(cri.podSandboxStatus(pod).getStatus().getState()).isEqualTo(PodSandboxState.SANDBOX_READY);
        assertThat(sh(app, "echo alive")).isEqualTo("alive\n");
    }

    @Test
    void execStreamsOutputStdinAndTheExitCodeThroughTheStreamingServer() throws Exception {
        String url = cri.exec(ExecRequest.newBuilder().setContainerId(app).addAllCmd(List.of("/bin/sh", "-c",
                "echo out; echo err >&2; exit 5")).setStdout(true).setStderr(true).build());
        try (StreamingSession session = StreamingSession.open(url, GUEST_DEADLINE)) {
            session.awaitEnd(GUEST_DEADLINE);
            assertThat(session.stdout()).isEqualTo("out\n");
            assertThat(session.stderr()).isEqualTo("err\n");
            assertThat(session.exitCode()).as(session.status().orElse("no status")).hasValue(5);
        }
        String withStdin = cri.exec(ExecRequest.newBuilder().setContainerId(app).addAllCmd(List.of("/bin/head", "-n", "1"))
                .setStdin(true).setStdout(true).setStderr(true).build());
        try (StreamingSession session = StreamingSession.open(withStdin, GUEST_DEADLINE)) {
            session.sendStdin("through stdin\n");
            session.awaitEnd(GUEST_DEADLINE);
            assertThat(session.stdout()).isEqualTo("through stdin\n");
            assertThat(session.exitCode()).hasValue(0);
        }
        // a terminal, as kubectl exec -it asks (containerd 1.6 passes no terminal output without stdin, with runc too),
        // sized by the client: the size reaches the guest's pty (retried in the shell: a resize may come after the start)
        String withTty = cri.exec(ExecRequest.newBuilder().setContainerId(app).addAllCmd(List.of("/bin/sh", "-c",
                "for i in $(seq 60); do s=$(stty size); [ \"$s\" = \"30 100\" ] && break; sleep 1; done; echo \"size $s\"; tty"))
                .setTty(true).setStdin(true).setStdout(true).build());
        try (StreamingSession session = StreamingSession.open(withTty, GUEST_DEADLINE)) {
            session.resize(100, 30);
            session.awaitEnd(GUEST_DEADLINE);
            assertThat(session.stdout()).as("stderr %s, status %s", session.stderr(), session.status())
                    .contains("size 30 100").contains("/dev/pts/");
            assertThat(session.exitCode()).hasValue(0);
        }
    }

    @Test
    void attachReachesTheContainersStdinAndStdout() throws Exception {
        String echoer = startContainer(CriNode.container("echoer", "/bin/sh", "-c", "while read line; do echo \"got $line\"; done")
                .setStdin(true).build());
        String url = cri.attach(AttachRequest.newBuilder().setContainerId(echoer).setStdin(true).setStdout(true).setStderr(true).build());
        try (StreamingSession session = StreamingSession.open(url, GUEST_DEADLINE)) {
            session.sendStdin("hello\n");
            await().atMost(GUEST_DEADLINE).untilAsserted(() -> assertThat(session.stdout()).contains("got hello"));
        }
        await().atMost(GUEST_DEADLINE).untilAsserted(() ->
                assertThat(node.logDirectory("web").resolve("echoer.log")).content().contains("stdout F got hello"));
        removeContainer(echoer);
    }

    @Test
    void theNodeMonitorShowsThePodsMetricsWithItsSandboxIdCriIdentityAndItsContainersKubernetesLabels() throws Exception {
        try (KataMonitor monitor = KataMonitor.start(new KataMonitor.Options(new InetSocketAddress("127.0.0.1", 0),
                new SandboxRoot(node.sandboxRoot()), node.containerd().state(), Duration.ofSeconds(20)))) {
            HttpClient http = HttpClient.newHttpClient();
            URI metrics = URI.create("http://127.0.0.1:" + monitor.address().getPort() + "/metrics");
            await().atMost(GUEST_DEADLINE).untilAsserted(() -> {
                HttpResponse<String> response = http.send(HttpRequest.newBuilder(metrics).build(), HttpResponse.BodyHandlers.ofString());
                Map<String, StrictPrometheusText.Family> families = StrictPrometheusText.parse(response.body());
                StrictPrometheusText.Family memory = families.get("kata_shim_pod_overhead_memory_in_bytes");
                assertThat(memory).as(response.body()).isNotNull();
                assertThat(memory.samples()).anySatisfy(s -> assertThat(s.labels()).containsEntry("sandbox_id", pod)
                        .containsEntry("cri_uid", podConfig.getMetadata().getUid())
                        .containsEntry("cri_name", "web")
                        .containsEntry("cri_namespace", "kt"));
                assertThat(families.keySet()).anyMatch(n -> n.startsWith("kata_guest_"));
                // the container's series under cAdvisor's names: its CRI name from its bundle, the pod's name and namespace
                StrictPrometheusText.Family workingSet = families.get("kata_container_memory_working_set_bytes");
                assertThat(workingSet).as(response.body()).isNotNull();
                assertThat(workingSet.sample("container_id", app).labels()).containsEntry("container", "app")
                        .containsEntry("pod", "web").containsEntry("namespace", "kt").containsEntry("sandbox_id", pod);
                assertThat(workingSet.sample("container_id", pod).labels()).as("the pause container: no container, as cAdvisor")
                        .doesNotContainKey("container").containsEntry("pod", "web").containsEntry("namespace", "kt");
            });
            http.close();
        }
    }

    @Test
    void aContainersEnvironmentWorkingDirectoryUserReadOnlyRootAndHostPathVolumeApplyInTheGuest() throws Exception {
        Path volume = Files.createDirectories(node.logDirectory("web").resolveSibling("volume-" + System.nanoTime()));
        Files.writeString(volume.resolve("from-host"), "written on the host\n");
        dev.katashim.cri.v1.ContainerConfig.Builder config = CriNode.container("shaped", "/bin/sh", "-c", "while :; do sleep 1; done")
                .addEnvs(KeyValue.newBuilder().setKey("GREETING").setValue(ByteString.copyFromUtf8("hello")))
                .setWorkingDir("/tmp")
                .addMounts(Mount.newBuilder().setHostPath(volume.toString()).setContainerPath("/data"));
        config.getLinuxBuilder().getSecurityContextBuilder()
                .setRunAsUser(Int64Value.newBuilder().setValue(65534)).setReadonlyRootfs(true);
        String shaped = startContainer(config.build());
        assertThat(sh(shaped, "echo $GREETING; pwd; id -u; cat /data/from-host")).isEqualTo("hello\n/tmp\n65534\nwritten on the host\n");
        ExecSyncResponse write = cri.execSync(shaped, EXEC_TIMEOUT, "/bin/touch", "/etc/new-file");
        assertThat(write.getExitCode()).isNotZero();
        assertThat(write.getStderr().toStringUtf8()).contains("Read-only file system");
        removeContainer(shaped);
    }

    @Test
    void anUnknownHandlerIsRefusedByNameAndStartsNothing() {
        int shimsBefore = processesNaming(node.containerd().directory().toString(), "containerd-shim").size();
        assertThatThrownBy(() -> cri.runPodSandbox(node.pod("nohandler").build(), "no-such-handler"))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getDescription()).contains("no-such-handler"));
        assertThat(cri.listPodSandbox().getItemsList()).noneMatch(p -> p.getMetadata().getName().equals("nohandler"));
        assertThat(processesNaming(node.containerd().directory().toString(), "containerd-shim")).hasSize(shimsBefore);
        assertThat(sh(app, "echo alive")).isEqualTo("alive\n");
    }

    @Test
    void aPodWhoseVmCannotBootSaysWhyAndLeavesNothing() {
        assertThatThrownBy(() -> cri.runPodSandbox(node.pod("nokernel").build(), NO_KERNEL))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getDescription()).contains(missingKernel.toString()));
        assertThat(cri.listPodSandbox().getItemsList()).noneMatch(p -> p.getMetadata().getName().equals("nokernel")
                && p.getState() == PodSandboxState.SANDBOX_READY);
        List<String> sandboxes = listDir(node.sandboxRoot());
        assertThat(sandboxes).containsExactly(pod);
        assertThat(sh(app, "echo alive")).isEqualTo("alive\n");
    }

    @Test
    void stopPodSandboxTwiceThenCreateContainerIsRefusedThenRemoveLeavesNothing() {
        PodSandboxConfig config = node.pod("stopped").build();
        String stopped = cri.runPodSandbox(config, CriNode.KATA);
        String container = cri.createContainer(stopped, CriNode.container("c", "/bin/sh", "-c", "while :; do sleep 1; done").build(), config);
        cri.startContainer(container);
        cri.stopPodSandbox(stopped);
        cri.stopPodSandbox(stopped); // kubelet retries; the second is a no-op
        assertThat(cri.podSandboxStatus(stopped).getStatus().getState()).isEqualTo(PodSandboxState.SANDBOX_NOTREADY);
        assertThat(cri.containerStatus(container).getState()).isEqualTo(ContainerState.CONTAINER_EXITED);
        assertThatThrownBy(() -> cri.createContainer(stopped, CriNode.container("late", "/bin/true").build(), config))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getDescription()).containsIgnoringCase("sandbox"));
        cri.removePodSandbox(stopped);
        assertNothingLeftOf(stopped, container);
        assertThat(sh(app, "echo alive")).isEqualTo("alive\n");
    }

    @Test
    void removePodSandboxWhileItsContainersRunStopsAndRemovesThem() {
        PodSandboxConfig config = node.pod("busy").build();
        String busy = cri.runPodSandbox(config, CriNode.KATA);
        String container = cri.createContainer(busy, CriNode.container("c", "/bin/sh", "-c", "while :; do sleep 1; done").build(), config);
        cri.startContainer(container);
        cri.removePodSandbox(busy);
        assertThat(cri.listContainers(ContainerFilter.getDefaultInstance()).getContainersList()).extracting(c -> c.getId())
                .doesNotContain(container);
        assertNothingLeftOf(busy, container);
        assertThat(sh(app, "echo alive")).isEqualTo("alive\n");
    }

    @Test
    void aVmThatDiesTakesThePodDownAndRemovingItLeavesNothing() throws Exception {
        PodSandboxConfig config = node.pod("dies").build();
        String dies = cri.runPodSandbox(config, CriNode.KATA);
        String container = cri.createContainer(dies, CriNode.container("c", "/bin/sh", "-c", "while :; do sleep 1; done").build(), config);
        cri.startContainer(container);
        long qemu = Long.parseLong(Files.readString(node.sandboxRoot().resolve(dies).resolve("hypervisor.pid")).trim());
        ProcessHandle.of(qemu).orElseThrow().destroyForcibly();
        await().atMost(GUEST_DEADLINE).untilAsserted(() -> {
            assertThat(cri.podSandboxStatus(dies).getStatus().getState()).isEqualTo(PodSandboxState.SANDBOX_NOTREADY);
            assertThat(cri.containerStatus(container).getState()).isEqualTo(ContainerState.CONTAINER_EXITED);
        });
        cri.stopPodSandbox(dies);
        cri.removePodSandbox(dies);
        assertNothingLeftOf(dies, container);
        assertThat(sh(app, "echo alive")).isEqualTo("alive\n");
    }

    @Test
    void aKilledShimsPodIsCleanedUpByDeleteIncludingItsCgroupInThePod() throws Exception {
        PodSandboxConfig config = node.pod("orphan").build();
        String orphan = cri.runPodSandbox(config, CriNode.KATA);
        String container = cri.createContainer(orphan, CriNode.container("c", "/bin/sh", "-c", "while :; do sleep 1; done").build(), config);
        cri.startContainer(container);
        String recorded = Files.readString(node.sandboxRoot().resolve(orphan).resolve("host-cgroup")).strip();
        assertThat(recorded).isEqualTo(config.getLinux().getCgroupParent() + "/kata_" + orphan);
        assertThat(Path.of("/sys/fs/cgroup/memory" + recorded)).isDirectory();
        Processes.shimsServing(orphan).getFirst().destroyForcibly();
        // containerd runs the shim's delete for each of the pod's tasks; the pod is then down
        await().atMost(GUEST_DEADLINE).untilAsserted(() -> {
            assertThat(cri.podSandboxStatus(orphan).getStatus().getState()).isEqualTo(PodSandboxState.SANDBOX_NOTREADY);
            assertThat(cri.containerStatus(container).getState()).isEqualTo(ContainerState.CONTAINER_EXITED);
            assertThat(Path.of("/sys/fs/cgroup/memory" + recorded)).doesNotExist();
        });
        cri.stopPodSandbox(orphan);
        cri.removePodSandbox(orphan);
        assertNothingLeftOf(orphan, container);
        assertThat(sh(app, "echo alive")).isEqualTo("alive\n");
    }

    private static void assertNothingLeftOf(String sandbox, String container) {
        assertThat(cri.listPodSandbox().getItemsList()).extracting(p -> p.getId()).doesNotContain(sandbox);
        await().atMost(GUEST_DEADLINE).ignoreExceptions().untilAsserted(() -> {
            assertThat(PodLeftovers.of(node, sandbox)).isEmpty();
            assertThat(PodLeftovers.of(node, container)).isEmpty();
        });
        assertThat(node.ctr("containers", "ls", "-q").stdout()).doesNotContain(sandbox).doesNotContain(container);
    }

    private static List<ProcessHandle> processesNaming(String id, String program) {
        return ProcessHandle.allProcesses().filter(p -> p.info().commandLine()
                .map(c -> c.contains(id) && c.contains(program)).orElse(false)).toList();
    }

    private static List<String> listDir(Path dir) {
        try (var list = Files.list(dir)) {
            return list.map(p -> p.getFileName().toString()).toList();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
