package dev.katashim.it.shim;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.Empty;
import dev.katashim.it.peers.TaskApiClient;
import dev.katashim.it.support.BusyboxRootfs;
import dev.katashim.it.support.CommandResult;
import dev.katashim.it.support.PrivateContainerd;
import dev.katashim.protocols.containerd.task.v2.UpdateTaskRequest;
import dev.katashim.ttrpc.status.StatusCode;
import dev.katashim.ttrpc.status.TtrpcException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * A pod in one QEMU VM (TCG here), its containers joined through the CRI annotations as Kubernetes
 * does, driven through containerd and ctr: host volumes shared into the guest, the pod's /dev/shm,
 * Update applied to the guest's cgroup, bad mounts refused while the pod keeps running. One VM
 * serves every test: each boots for ~20 s under TCG.
 */
class PodInVmEndToEndTest {
    private static final Duration VM_DEADLINE = Duration.ofMinutes(3);
    private static PrivateContainerd containerd;
    private static String rootfs;
    private static String pod;
    private static Path hostDir;
    private static Path hostFile;

    @BeforeAll
    static void startAPod(@TempDir Path dir) throws Exception {
        Path repo = Path.of("").toAbsolutePath().getParent();
        containerd = PrivateContainerd.builder().prependToPath(repo.resolve("bin"))
                .environment("KATA_CONF_FILE", KataConfigs.qemu(dir, repo, "", 120).toString()).start();
        rootfs = BusyboxRootfs.create(dir.resolve("rootfs")).path().toString();
        hostDir = Files.createDirectories(dir.resolve("volume"));
        Files.writeString(hostDir.resolve("from-host"), "written on the host\n");
        hostFile = Files.writeString(dir.resolve("settings.conf"), "setting=1\n");
        pod = containerd.uniqueId("pod");
        CommandResult run = ctr("run", "-d", "--runtime", KataQemuEndToEndTest.RUNTIME,
                "--annotation", "io.kubernetes.cri.container-type=sandbox",
                "--mount", "type=bind,src=" + hostDir + ",dst=/vol,options=rbind:rw",
                "--mount", "type=bind,src=" + hostFile + ",dst=/etc/settings.conf,options=rbind:ro",
                "--rootfs", rootfs, pod, "/bin/sh", "-c", "while :; do sleep 1; done");
        assertThat(run.exitCode()).as(run + "\n" + containerd.log()).isZero();
    }

    @AfterAll
    static void stop() {
        if (containerd != null) {
            containerd.close();
        }
    }

    private static CommandResult ctr(String... args) {
        return containerd.ctrWithInput(new byte[0], VM_DEADLINE, args);
    }

    private static CommandResult exec(String container, String script) {
        return ctr("task", "exec", "--exec-id", containerd.uniqueId("x"), container, "/bin/sh", "-c", script);
    }

    private static List<String> member(String id, String... extra) {
        List<String> args = new ArrayList<>(List.of("run", "-d", "--runtime", KataQemuEndToEndTest.RUNTIME,
                "--annotation", "io.kubernetes.cri.container-type=container", "--annotation", "io.kubernetes.cri.sandbox-id=" + pod));
        args.addAll(List.of(extra));
        args.addAll(List.of("--rootfs", rootfs, id, "/bin/sh", "-c", "while :; do sleep 1; done"));
        return args;
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
        return ctr("task", "ls").stdout().lines().filter(l -> l.startsWith(id + " "))
                .map(l -> l.trim().split("\\s+")[2]).findFirst().orElse("GONE");
    }

    private static UpdateTaskRequest update(String id, String json) {
        return UpdateTaskRequest.newBuilder().setId(id).setResources(Any.newBuilder()
                .setTypeUrl("types.containerd.io/opencontainers/runtime-spec/1/LinuxResources").setValue(ByteString.copyFromUtf8(json))).build();
    }

    private static void stopMember(String id) {
        ctr("task", "kill", "-s", "KILL", id);
        await().atMost(VM_DEADLINE).until(() -> ctr("task", "rm", id).exitCode() == 0);
        assertThat(ctr("c", "rm", id).exitCode()).isZero();
    }
}
