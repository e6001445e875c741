package dev.katashim.it.peers;

import dev.katashim.it.support.BusyboxRootfs;
import dev.katashim.it.support.CommandResult;
import dev.katashim.it.support.PrivateContainerd;
import dev.katashim.protocols.containerd.events.TaskOOM;
import dev.katashim.protocols.containerd.task.v2.ConnectResponse;
import dev.katashim.protocols.containerd.task.v2.StateResponse;
import dev.katashim.protocols.containerd.types.task.ProcessInfo;
import dev.katashim.protocols.containerd.types.task.Status;
import dev.katashim.ttrpc.status.StatusCode;
import dev.katashim.ttrpc.status.TtrpcException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Our ttrpc client against containerd's own peers: the Go runc shim that containerd started for a
 * real busybox container, and containerd's ttrpc events service.
 */
class RuncShimPeerTest {
    private static PrivateContainerd containerd;
    private static String id;
    private static Path shimSocket;

    @BeforeAll
    static void runABusyboxContainer(@TempDir Path dir) {
        containerd = PrivateContainerd.start();
        BusyboxRootfs rootfs = BusyboxRootfs.create(dir.resolve("rootfs"));
        id = containerd.uniqueId("peer");
        CommandResult run = containerd.ctr("run", "-d", "--rootfs", rootfs.path().toString(), id, "/bin/sh", "-c", "sleep 300 & sleep 301");
        assertThat(run.succeeded()).as(run.toString()).isTrue();
        shimSocket = containerd.shimSocket(id);
    }

    @AfterAll
    static void stop() {
        if (containerd != null) {
            containerd.close();
        }
    }

    /** {@code ctr task ls} row for our task: TASK PID STATUS. */
    private static List<String> taskRow() {
        CommandResult ls = containerd.ctr("task", "ls");
        return ls.stdout().lines().filter(l -> l.startsWith(id + " ")).findFirst()
                .map(l -> Arrays.asList(l.trim().split("\\s+"))).orElseThrow(() -> new AssertionError(ls.toString()));
    }

    @Test
    void stateMatchesCtrTaskLs() throws Exception {
        List<String> row = taskRow();
        try (TaskApiClient shim = TaskApiClient.connect(shimSocket, containerd.namespace())) {
            StateResponse state = shim.state(id);
            assertThat(state.getId()).isEqualTo(id);
            assertThat(String.valueOf(state.getPid())).isEqualTo(row.get(1));
            assertThat(state.getStatus()).isEqualTo(Status.RUNNING);
            assertThat(row.get(2)).isEqualTo("RUNNING");
            assertThat(state.getBundle()).endsWith("/" + containerd.namespace() + "/" + id);
        }
    }

    @Test
    void pidsMatchCtrTaskPs() throws Exception {
        CommandResult ps = containerd.ctr("task", "ps", id);
        List<Integer> ctrPids = ps.stdout().lines().skip(1).map(l -> Integer.parseInt(l.trim().split("\\s+")[0])).sorted().toList();
        try (TaskApiClient shim = TaskApiClient.connect(shimSocket, containerd.namespace())) {
            List<Integer> ours = shim.pids(id).getProcessesList().stream().map(ProcessInfo::getPid).sorted().toList();
            // sh execs its last command: the shell (now sleep 301) and the background sleep 300
            assertThat(ours).hasSize(2).isEqualTo(ctrPids);
        }
    }

    @Test
    void connectNamesTheShimAndTheTask() throws Exception {
        try (TaskApiClient shim = TaskApiClient.connect(shimSocket, containerd.namespace())) {
            ConnectResponse connect = shim.connect(id);
            assertThat(String.valueOf(connect.getTaskPid())).isEqualTo(taskRow().get(1));
            String shimCmdline = Files.readString(Path.of("/proc/" + connect.getShimPid() + "/cmdline"));
            assertThat(shimCmdline).startsWith("/usr/bin/containerd-shim-runc-v2").contains(id);
        }
    }

    @Test
    void goServersErrorsArriveAsStatuses() throws Exception {
        try (TaskApiClient shim = TaskApiClient.connect(shimSocket, containerd.namespace())) {
            assertThatThrownBy(() -> shim.state("no-such-task"))
                    .isInstanceOfSatisfying(TtrpcException.class, e -> {
                        assertThat(e.code()).isEqualTo(StatusCode.NOT_FOUND);
                        assertThat(e.getMessage()).contains("not found");
                    });
            assertThatThrownBy(() -> shim.ttrpc().blockingCall(TaskApiClient.SERVICE, "Frobnicate",
                    com.google.protobuf.Empty.getDefaultInstance(), com.google.protobuf.Empty.parser(),
                    dev.katashim.ttrpc.client.CallOptions.DEFAULT))
                    .isInstanceOfSatisfying(TtrpcException.class, e -> assertThat(e.code()).isEqualTo(StatusCode.UNIMPLEMENTED));
            assertThat(shim.state(id).getStatus()).isEqualTo(Status.RUNNING);
        }
    }

    @Test
    void forwardedEventShowsUpInCtrEvents() throws Exception {
        Process events = new ProcessBuilder("ctr", "--address", containerd.grpcAddress().toString(), "events")
                .redirectErrorStream(true).start();
        try {
            BlockingQueue<String> lines = new LinkedBlockingQueue<>();
            Thread.ofVirtual().start(() -> {
                try (BufferedReader reader = new BufferedReader(new InputStreamReader(events.getInputStream(), StandardCharsets.UTF_8))) {
                    reader.lines().forEach(lines::add);
                } catch (Exception ignored) {
                    // the process was stopped
                }
            });
            String marker = containerd.uniqueId("oom-demo");
            try (EventsForwarder forwarder = new EventsForwarder(containerd.ttrpcAddress())) {
                // ctr events subscribes asynchronously: forward until it shows up
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                String seen = null;
                while (seen == null && System.nanoTime() < deadline) {
                    forwarder.forward(containerd.namespace(), "/tasks/oom", TaskOOM.newBuilder().setContainerId(marker).build());
                    String line;
                    while ((line = lines.poll(300, TimeUnit.MILLISECONDS)) != null) {
                        if (line.contains(marker)) {
                            seen = line;
                            break;
                        }
                    }
                }
                assertThat(seen).as("ctr events output").isNotNull()
                        .contains(containerd.namespace()).contains("/tasks/oom").contains("\"container_id\":\"" + marker + "\"");
            }
        } finally {
            events.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void containerdRejectsAnEventWithoutATopicSlashClearly() throws Exception {
        try (EventsForwarder forwarder = new EventsForwarder(containerd.ttrpcAddress())) {
            assertThatThrownBy(() -> forwarder.forward(containerd.namespace(), "no-slash", TaskOOM.newBuilder().setContainerId("x").build()))
                    .isInstanceOf(TtrpcException.class);
        }
    }
}
