package dev.katashim.it.shim;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.Empty;
import dev.katashim.it.peers.TaskApiClient;
import dev.katashim.it.support.CommandResult;
import dev.katashim.it.support.PrivateContainerd;
import dev.katashim.metrics.overhead.PodOverhead;
import dev.katashim.metrics.server.HttpClient;
import dev.katashim.metrics.support.StrictPrometheusText;
import dev.katashim.protocols.containerd.task.v2.UpdateTaskRequest;
import dev.katashim.ttrpc.status.StatusCode;
import dev.katashim.ttrpc.status.TtrpcException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static dev.katashim.it.shim.VmPod.VM_DEADLINE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * A pod in one QEMU VM (TCG here), its containers joined through the CRI annotations as Kubernetes
 * does, driven through containerd and ctr: host volumes shared into the guest (a ConfigMap updated
 * as kubelet does reaches its container), the pod's /dev/shm, Update applied to the guest's
 * cgroup, bad mounts refused while the pod keeps running, the pod overhead measured from its first
 * container's start. One VM serves every test: each boots for ~20 s under TCG.
 */
class PodInVmEndToEndTest {
    /**
     * How long after its first container started a sandbox may take to publish both pod-overhead
     * series: it aims at about 2 s (a 1 s window restarted when the container set changes); generous
     * for a loaded machine, where each window's StatsContainer calls into a TCG guest slow down.
     */
    private static final Duration OVERHEAD_DEADLINE = Duration.ofSeconds(30);
    private static VmPod vm;
    private static PrivateContainerd containerd;
    private static String pod;
    private static Path hostDir;
    private static Path hostFile;
    private static Path dir;
    /** From the sandbox container's start (ctr run returned) to both overhead series on the management socket. */
    private static OverheadSeen overheadSeen;

    @BeforeAll
    static void startAPod(@TempDir Path tempDir) throws Exception {
        dir = tempDir;
        hostDir = Files.createDirectories(dir.resolve("volume"));
        Files.writeString(hostDir.resolve("from-host"), "written on the host\n");
        hostFile = Files.writeString(dir.resolve("settings.conf"), "setting=1\n");
        vm = VmPod.start(dir,
                "--mount", "type=bind,src=" + hostDir + ",dst=/vol,options=rbind:rw",
                "--mount", "type=bind,src=" + hostFile + ",dst=/etc/settings.conf,options=rbind:ro");
        containerd = vm.containerd;
        pod = vm.id;
        overheadSeen = timeUntilBothOverheadSeries(vm.sandboxDirectory().resolve("shim-monitor.sock"));
    }

    /**
     * When, after the first container started, a scrape of the sandbox's management socket first
     * showed both pod-overhead series: the scrape's start and end (one takes 1-2 s under TCG, most
     * of it waiting for the guest's own metrics), null if none did within the deadline.
     */
    private record OverheadSeen(Duration scrapeBegan, Duration scrapeEnded) {
    }

    private static OverheadSeen timeUntilBothOverheadSeries(Path socket) throws InterruptedException {
        long started = System.nanoTime();
        while (System.nanoTime() - started < OVERHEAD_DEADLINE.toNanos()) {
            long began = System.nanoTime();
            try {
                HttpClient.Response scrape = HttpClient.getBlocking(socket, "/metrics", "text/plain", OVERHEAD_DEADLINE);
                if (StrictPrometheusText.parse(scrape.body()).keySet().containsAll(List.of(PodOverhead.CPU, PodOverhead.MEMORY))) {
                    OverheadSeen seen = new OverheadSeen(Duration.ofNanos(began - started), Duration.ofNanos(System.nanoTime() - started));
                    System.out.println("pod overhead: both series in the scrape begun " + seen.scrapeBegan().toMillis()
                            + " ms and ended " + seen.scrapeEnded().toMillis() + " ms after the first container started");
                    return seen;
                }
            } catch (IOException notYet) {
                // the socket answers once the monitor serves
            }
            Thread.sleep(50);
        }
        return null;
    }

    @AfterAll
    static void stop() {
        if (vm != null) {
            vm.close();
        }
    }

    private static CommandResult ctr(String... args) {
        return vm.ctr(args);
    }

    private static CommandResult exec(String container, String script) {
        return vm.exec(container, script);
    }

    /** ctr run's arguments for a detached member running forever, with {@code extra} ctr run flags. */
    private static List<String> member(String id, String... extra) {
        List<String> flags = new ArrayList<>(List.of("-d"));
        flags.addAll(List.of(extra));
        return vm.member(id, flags, VmPod.SLEEP_FOREVER);
    }

    @Test
    void aHostDirectoryIsSharedReadWriteAndAFileReadOnly() throws Exception {
        CommandResult read = exec(pod, "cat /vol/from-host; echo from the guest > /vol/from-guest; cat /etc/settings.conf");
        assertThat(read.exitCode()).as(read + "\n" + containerd.log()).isZero();
        assertThat(read.stdout()).contains("written on the host", "setting=1");
        assertThat(hostDir.resolve("from-guest")).content().isEqualTo("from the guest\n");

        CommandResult write = exec(pod, "echo setting=2 > /etc/settings.conf");
        assertThat(write.exitCode()).isNotZero();
        assertThat(write.stdout() + write.stderr()).contains("Read-only file system");
        assertThat(hostFile).content().isEqualTo("setting=1\n");

        Files.writeString(hostDir.resolve("later"), "changed on the host\n");
        await().atMost(VM_DEADLINE).untilAsserted(() -> assertThat(exec(pod, "cat /vol/later").stdout()).contains("changed on the host"));
        // a file Kubernetes rewrites in place (/etc/hosts, /etc/resolv.conf): the container reads the new content
        Files.writeString(hostFile, "setting=3\n");
        await().atMost(VM_DEADLINE).untilAsserted(() -> assertThat(exec(pod, "cat /etc/settings.conf").stdout()).isEqualTo("setting=3\n"));
    }

    @Test
    void podOverheadIsServedSoonAfterTheFirstContainerStarted() {
        assertThat(overheadSeen).as("both %s and %s on the management socket within %s of the sandbox container's start",
                PodOverhead.CPU, PodOverhead.MEMORY, OVERHEAD_DEADLINE).isNotNull();
    }

    @Test
    void aConfigMapUpdatedAsKubeletDoesReachesItsContainer() throws Exception {
        // kubelet's atomic writer: files are links through ..data to a timestamped directory, and an
        // update writes a new directory, then renames a new ..data link over the old one
        Path configMap = Files.createDirectories(dir.resolve("configmap"));
        Path first = Files.createDirectories(configMap.resolve("..2026_12_01_10_00_00.000000001"));
        Files.writeString(first.resolve("greeting"), "hello v1\n");
        Files.createSymbolicLink(configMap.resolve("..data"), first.getFileName());
        Files.createSymbolicLink(configMap.resolve("greeting"), Path.of("..data/greeting"));
        String app = containerd.uniqueId("cm");
        CommandResult run = ctr(member(app, "--mount", "type=bind,src=" + configMap + ",dst=/etc/config,options=rbind:ro").toArray(String[]::new));
        assertThat(run.exitCode()).as(run + "\n" + containerd.log()).isZero();
        assertThat(exec(app, "cat /etc/config/greeting").stdout()).isEqualTo("hello v1\n");

        Path second = Files.createDirectories(configMap.resolve("..2026_12_01_10_05_00.000000002"));
        Files.writeString(second.resolve("greeting"), "hello v2\n");
        Files.createSymbolicLink(configMap.resolve("..data_tmp"), second.getFileName());
        Files.move(configMap.resolve("..data_tmp"), configMap.resolve("..data"), StandardCopyOption.ATOMIC_MOVE);
        Files.delete(first.resolve("greeting"));
        Files.delete(first);
        await().atMost(VM_DEADLINE).untilAsserted(() -> assertThat(exec(app, "cat /etc/config/greeting").stdout()).isEqualTo("hello v2\n"));
        stopMember(app);
    }

    @Test
    void noHostPathReachesTheGuestsRunc() {
        CommandResult mounts = exec(pod, "cat /proc/self/mountinfo");
        assertThat(mounts.exitCode()).isZero();
        assertThat(mounts.stdout()).doesNotContain(hostDir.toString()).doesNotContain(containerd.directory().toString());
        CommandResult shm = exec(pod, "grep ' /dev/shm ' /proc/self/mounts");
        assertThat(shm.stdout()).contains("tmpfs").contains("size=65536k");
    }

    @Test
    void podContainersShareTheShmTmpfs() {
        String app = containerd.uniqueId("app");
        CommandResult run = ctr(member(app).toArray(String[]::new));
        assertThat(run.exitCode()).as(run + "\n" + containerd.log()).isZero();
        assertThat(exec(pod, "echo shared > /dev/shm/note").exitCode()).isZero();
        assertThat(exec(app, "cat /dev/shm/note").stdout()).contains("shared");
        stopMember(app);
    }

    @Test
    void updateSetsTheMemoryLimitOfTheContainersCgroupInTheGuest() throws Exception {
        String app = containerd.uniqueId("upd");
        CommandResult run = ctr(member(app).toArray(String[]::new));
        assertThat(run.exitCode()).as(run + "\n" + containerd.log()).isZero();
        try (TaskApiClient shim = TaskApiClient.connect(containerd.shimSocket(pod), containerd.namespace())) {
            shim.call("Update", update(app, "{\"memory\":{\"limit\":67108864}}"), Empty.parser());
            // what a user checks: the container's cgroup in the guest, as ctr task metrics reads it through Stats
            CommandResult metrics = ctr("task", "metrics", app);
            assertThat(metrics.stdout()).as(metrics.toString()).containsPattern("memory\\.(limit_in_bytes|usage_limit)\\s+67108864");
            assertThatThrownBy(() -> shim.call("Update", update(app, "{\"memory\":{\"limit\":-5}}"), Empty.parser()))
                    .isInstanceOfSatisfying(TtrpcException.class, e -> {
                        assertThat(e.code()).isEqualTo(StatusCode.INVALID_ARGUMENT);
                        assertThat(e.getMessage()).contains("memory.limit = -5");
                    });
        }
        assertThat(exec(app, "true").exitCode()).isZero();
        stopMember(app);
    }

    @Test
    void aBindMountOfAMissingPathOrASocketIsRefusedAndThePodKeepsRunning() throws Exception {
        CommandResult missing = ctr(member(containerd.uniqueId("bad"), "--mount", "type=bind,src=/no/such/dir,dst=/x,options=rbind").toArray(String[]::new));
        assertThat(missing.exitCode()).isNotZero();
        assertThat(missing.stderr()).contains("bind mount source /no/such/dir (for /x) does not exist");
        CommandResult socket = ctr(member(containerd.uniqueId("bad"), "--mount", "type=bind,src=" + containerd.grpcAddress() + ",dst=/x,options=rbind").toArray(String[]::new));
        assertThat(socket.exitCode()).isNotZero();
        assertThat(socket.stderr()).contains("cannot be shared with the VM");
        assertThat(exec(pod, "echo alive").stdout()).contains("alive");
    }

    @Test
    void pauseResumePidsExecWithStdinAndKillAll() throws Exception {
        String app = containerd.uniqueId("rpc");
        CommandResult run = ctr(member(app).toArray(String[]::new));
        assertThat(run.exitCode()).as(run + "\n" + containerd.log()).isZero();
        assertThat(ctr("task", "pause", app).exitCode()).isZero();
        assertThat(taskStatus(app)).isEqualTo("PAUSED");
        assertThat(ctr("task", "resume", app).exitCode()).isZero();
        assertThat(taskStatus(app)).isEqualTo("RUNNING");
        assertThat(ctr("task", "ps", app).stdout()).containsPattern("\\d+");

        CommandResult echoed = containerd.ctrWithInput("through stdin\n".getBytes(), VM_DEADLINE,
                "task", "exec", "--exec-id", containerd.uniqueId("in"), app, "/bin/head", "-n", "1");
        assertThat(echoed.exitCode()).as(echoed.toString()).isZero();
        assertThat(echoed.stdout()).isEqualTo("through stdin\n");
        CommandResult exitCode = exec(app, "exit 7");
        assertThat(exitCode.exitCode()).isEqualTo(7);

        assertThat(ctr("task", "kill", "--all", "-s", "KILL", app).exitCode()).isZero();
        await().atMost(VM_DEADLINE).until(() -> taskStatus(app).equals("STOPPED"));
        assertThat(ctr("task", "rm", app).exitCode()).isZero();
        assertThat(ctr("c", "rm", app).exitCode()).isZero();
        assertThat(taskStatus(pod)).isEqualTo("RUNNING");
    }

    private static String taskStatus(String id) {
        return vm.taskStatus(id);
    }

    private static UpdateTaskRequest update(String id, String json) {
        return UpdateTaskRequest.newBuilder().setId(id).setResources(Any.newBuilder()
                .setTypeUrl("types.containerd.io/opencontainers/runtime-spec/1/LinuxResources").setValue(ByteString.copyFromUtf8(json))).build();
    }

    private static void stopMember(String id) {
        vm.stopMember(id);
    }
}
