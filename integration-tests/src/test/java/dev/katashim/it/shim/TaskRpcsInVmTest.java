package dev.katashim.it.shim;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.Empty;
import dev.katashim.it.peers.TaskApiClient;
import dev.katashim.it.support.BackgroundCommand;
import dev.katashim.it.support.CommandResult;
import dev.katashim.it.support.CtrEvents;
import dev.katashim.it.support.InTerminal;
import dev.katashim.it.support.PrivateContainerd;
import dev.katashim.protocols.containerd.task.v2.CloseIORequest;
import dev.katashim.protocols.containerd.task.v2.DeleteRequest;
import dev.katashim.protocols.containerd.task.v2.DeleteResponse;
import dev.katashim.protocols.containerd.task.v2.ResizePtyRequest;
import dev.katashim.protocols.containerd.task.v2.UpdateTaskRequest;
import dev.katashim.protocols.containerd.task.v2.WaitRequest;
import dev.katashim.protocols.containerd.task.v2.WaitResponse;
import dev.katashim.ttrpc.status.StatusCode;
import dev.katashim.ttrpc.status.TtrpcException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static dev.katashim.it.shim.VmPod.VM_DEADLINE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The Task RPCs a user drives in a VM, through containerd 1.6 and ctr (and the Task API, as
 * containerd calls it, where ctr has no command): a terminal and its resizes, CloseIO, Wait on an
 * exec and its events, OOM of a container and of an exec, Stats, Pids, and bad input refused while
 * the pod keeps running. One pod sandbox VM serves every test.
 */
class TaskRpcsInVmTest {
    /** A container's memory limit the guest's cgroup v2 can start runc under (8 MiB is too small for runc's init). */
    private static final String SMALL_MEMORY_LIMIT = Long.toString(64L << 20);
    /** Allocates twice that at once: busybox dd's buffer is one block, touched by the read. */
    private static final List<String> MEMORY_HOG = List.of("/bin/dd", "if=/dev/zero", "of=/dev/null", "bs=128M", "count=1");
    private static VmPod pod;
    private static CtrEvents events;
    private static String app;

    @BeforeAll
    static void startAPod(@TempDir Path dir) throws Exception {
        pod = VmPod.start(dir);
        events = CtrEvents.start(pod.containerd, VM_DEADLINE);
        app = pod.startMember("app");
    }

    @AfterAll
    static void stop() {
        if (events != null) {
            events.close();
        }
        if (pod != null) {
            pod.close();
        }
    }

    private static PrivateContainerd containerd() {
        return pod.containerd;
    }

    @Test
    void anExecWithATerminalHasTheSizeOfTheUsersTerminalAndFollowsAResize() throws Exception {
        String exec = containerd().uniqueId("tty");
        // ctr sizes the process's terminal from its own (33x77) once it started; the test then resizes it
        String script = "tty; stty size; while [ \"$(stty size)\" = '33 77' ]; do sleep 0.2; done; stty size";
        try (BackgroundCommand terminal = InTerminal.start(containerd().ctrCommandLine("task", "exec", "-t", "--exec-id", exec,
                app, "/bin/sh", "-c", script), PrivateContainerd.ctrEnvironment(), 33, 77);
             TaskApiClient shim = pod.taskApi()) {
            terminal.awaitOutput(out -> out.contains("33 77"), VM_DEADLINE);
            shim.call("ResizePty", ResizePtyRequest.newBuilder().setId(app).setExecId(exec).setHeight(50).setWidth(120).build(),
                    Empty.parser());
            assertThat(terminal.awaitExit(VM_DEADLINE)).as(terminal.toString()).isZero();
            // both terminals (the guest's and ours) turn each LF into CR LF
            assertThat(terminal.output().replace("\r", "").lines().toList()).hasSize(3)
                    .satisfies(lines -> assertThat(lines.getFirst()).matches("/dev/pts/\\d+"))
                    .endsWith("33 77", "50 120");
        }
    }

    @Test
    void closeIoOfStdinEndsCatWhileCtrStillHoldsItOpen() throws Exception {
        String exec = containerd().uniqueId("cat");
        try (BackgroundCommand cat = containerd().ctrInBackground("task", "exec", "--exec-id", exec, app, "/bin/cat");
             TaskApiClient shim = pod.taskApi()) {
            cat.write("through the pipe\n");
            cat.awaitOutput(out -> out.contains("through the pipe"), VM_DEADLINE);
            shim.call("CloseIO", CloseIORequest.newBuilder().setId(app).setExecId(exec).setStdin(true).build(), Empty.parser());
            assertThat(cat.awaitExit(VM_DEADLINE)).as(cat.toString()).isZero();
        }
    }

    @Test
    void aDetachedExecIsAnnouncedStartedAndWaitedFor() throws Exception {
        String exec = containerd().uniqueId("wait");
        CommandResult started = pod.ctr("task", "exec", "--detach", "--exec-id", exec, app, "/bin/sh", "-c", "sleep 2; exit 5");
        assertThat(started.exitCode()).as(started.toString()).isZero();
        try (TaskApiClient shim = pod.taskApi()) {
            WaitResponse waited = shim.call("Wait", WaitRequest.newBuilder().setId(app).setExecId(exec).build(), WaitResponse.parser());
            assertThat(waited.getExitStatus()).isEqualTo(5);
            DeleteResponse deleted = shim.call("Delete", DeleteRequest.newBuilder().setId(app).setExecId(exec).build(), DeleteResponse.parser());
            assertThat(deleted.getExitStatus()).isEqualTo(5);
        }
        CtrEvents.Event added = events.await("/tasks/exec-added", e -> isOf(e, app, exec), VM_DEADLINE);
        CtrEvents.Event running = events.await("/tasks/exec-started", e -> isOf(e, app, exec), VM_DEADLINE);
        CtrEvents.Event exited = events.await("/tasks/exit", e -> e.text("container_id").equals(app) && e.text("id").equals(exec), VM_DEADLINE);
        assertThat(exited.body().path("exit_status").asInt()).isEqualTo(5);
        assertThat(events.all()).containsSubsequence(added, running, exited);
    }

    private static boolean isOf(CtrEvents.Event event, String container, String exec) {
        return event.text("container_id").equals(container) && event.text("exec_id").equals(exec);
    }

    @Test
    void aContainerOverItsMemoryLimitExits137AndItsOomIsPublished() throws Exception {
        String hog = containerd().uniqueId("oom");
        CommandResult run = pod.ctr(pod.member(hog, List.of("--memory-limit", SMALL_MEMORY_LIMIT), MEMORY_HOG).toArray(String[]::new));
        assertThat(run.exitCode()).as(run + "\n" + containerd().log()).isEqualTo(137);
        events.await("/tasks/oom", e -> e.text("container_id").equals(hog), VM_DEADLINE);
        assertThat(pod.ctr("c", "rm", hog).exitCode()).isZero();
        assertThat(pod.taskStatus(app)).isEqualTo("RUNNING");
    }

    @Test
    void anExecOverTheContainersMemoryLimitExits137AndTheContainerKeepsRunning() throws Exception {
        String limited = pod.startMember("lim", "--memory-limit", SMALL_MEMORY_LIMIT);
        List<String> exec = new ArrayList<>(List.of("task", "exec", "--exec-id", containerd().uniqueId("hog"), limited));
        exec.addAll(MEMORY_HOG);
        CommandResult hog = pod.ctr(exec.toArray(String[]::new));
        assertThat(hog.exitCode()).as(hog.toString()).isEqualTo(137);
        events.await("/tasks/oom", e -> e.text("container_id").equals(limited), VM_DEADLINE);
        assertThat(pod.taskStatus(limited)).isEqualTo("RUNNING");
        assertThat(pod.exec(limited, "echo still here").stdout()).isEqualTo("still here\n");
        pod.stopMember(limited);
    }

    @Test
    void statsAreTheContainersCgroupInTheGuestAndPidsTheHypervisor() throws Exception {
        CommandResult metrics = pod.ctr("task", "metrics", app);
        assertThat(metrics.exitCode()).as(metrics.toString()).isZero();
        Matcher usage = Pattern.compile("memory\\.usage_in_bytes\\s+(\\d+)").matcher(metrics.stdout());
        assertThat(usage.find()).as(metrics.stdout()).isTrue();
        assertThat(Long.parseLong(usage.group(1))).isPositive();
        Matcher pids = Pattern.compile("pids\\.current\\s+(\\d+)").matcher(metrics.stdout());
        assertThat(pids.find()).as(metrics.stdout()).isTrue();
        assertThat(Long.parseLong(pids.group(1))).isPositive();
        // the guest's cgroup v2 files, read by the agent: CPU time in nanoseconds, as v1's cpuacct
        Matcher cpu = Pattern.compile("cpuacct\\.usage\\s+(\\d+)").matcher(metrics.stdout());
        assertThat(cpu.find()).as(metrics.stdout()).isTrue();
        assertThat(Long.parseLong(cpu.group(1))).isPositive();

        CommandResult ps = pod.ctr("task", "ps", app);
        assertThat(ps.exitCode()).as(ps.toString()).isZero();
        // every task of a VM sandbox reports the hypervisor, as upstream: the guest's pids mean nothing on the host
        assertThat(ps.stdout().lines().skip(1).map(l -> l.trim().split("\\s+")[0]).toList())
                .containsExactly(Long.toString(pod.hypervisorPid()));
    }

    @Test
    void theGuestReportsItsFreedPagesToABalloon() throws Exception {
        // reclaim_guest_freed_memory: a virtio-balloon bound in the guest, free page reporting
        // (feature bit 5, VIRTIO_BALLOON_F_REPORTING) negotiated
        CommandResult features = pod.ctr("task", "exec", "--exec-id", containerd().uniqueId("balloon"), app, "/bin/sh", "-c",
                "cat /sys/bus/virtio/drivers/virtio_balloon/virtio*/features");
        assertThat(features.exitCode()).as(features.toString()).isZero();
        assertThat(features.stdout().strip()).as(features.stdout()).hasSizeGreaterThan(5).satisfies(bits -> assertThat(bits.charAt(5)).isEqualTo('1'));
    }

    @Test
    void badInputIsRefusedNamingTheProblemAndThePodKeepsRunning() throws Exception {
        String exec = containerd().uniqueId("dup");
        assertThat(pod.ctr("task", "exec", "--detach", "--exec-id", exec, app, "/bin/sleep", "600").exitCode()).isZero();
        CommandResult again = pod.ctr("task", "exec", "--detach", "--exec-id", exec, app, "/bin/true");
        assertThat(again.exitCode()).isNotZero();
        assertThat(again.stderr()).contains("id " + exec + ": already exists");

        CommandResult unknown = pod.ctr("task", "kill", "--exec-id", "no-such-exec", app);
        assertThat(unknown.exitCode()).isNotZero();
        assertThat(unknown.stderr()).contains("exec does not exist no-such-exec");

        try (TaskApiClient shim = pod.taskApi()) {
            assertThatThrownBy(() -> shim.call("ResizePty", ResizePtyRequest.newBuilder().setId(app).setExecId(exec)
                    .setHeight(10).setWidth(10).build(), Empty.parser()))
                    .isInstanceOfSatisfying(TtrpcException.class, e -> {
                        assertThat(e.code()).isEqualTo(StatusCode.FAILED_PRECONDITION);
                        assertThat(e.getMessage()).contains("exec " + exec + " of container " + app + " has no terminal");
                    });
            assertRefused(shim, "{\"memory\":{\"limit\":4611686018427387904}}", "memory.limit = 4611686018427387904 is out of range");
            assertRefused(shim, "{\"cpu\":{\"period\":5}}", "cpu.period = 5 is out of range");
            assertRefused(shim, "{\"pids\":{\"limit\":-7}}", "pids.limit = -7 is out of range");
        }

        assertThat(pod.ctr("task", "kill", "-s", "KILL", "--exec-id", exec, app).exitCode()).isZero();
        assertThat(pod.exec(app, "echo alive").stdout()).isEqualTo("alive\n");
        assertThat(pod.exec(pod.id, "echo alive").stdout()).isEqualTo("alive\n");
        assertThat(pod.taskStatus(app)).isEqualTo("RUNNING");
        assertThat(pod.taskStatus(pod.id)).isEqualTo("RUNNING");
    }

    private static void assertRefused(TaskApiClient shim, String resources, String message) {
        assertThatThrownBy(() -> shim.call("Update", UpdateTaskRequest.newBuilder().setId(app).setResources(Any.newBuilder()
                .setTypeUrl("types.containerd.io/opencontainers/runtime-spec/1/LinuxResources")
                .setValue(ByteString.copyFromUtf8(resources))).build(), Empty.parser()))
                .isInstanceOfSatisfying(TtrpcException.class, e -> {
                    assertThat(e.code()).isEqualTo(StatusCode.INVALID_ARGUMENT);
                    assertThat(e.getMessage()).contains(message);
                });
    }
}
