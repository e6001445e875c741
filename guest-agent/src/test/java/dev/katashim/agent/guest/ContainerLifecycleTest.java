package dev.katashim.agent.guest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.Empty;
import dev.katashim.agent.guest.stats.CgroupStatsMapper;
import dev.katashim.agent.guest.support.AgentFixture;
import dev.katashim.agent.guest.support.Specs;
import dev.katashim.protocols.kata.agent.Box;
import dev.katashim.protocols.kata.agent.CgroupStats;
import dev.katashim.protocols.kata.agent.CloseStdinRequest;
import dev.katashim.protocols.kata.agent.GetOOMEventRequest;
import dev.katashim.protocols.kata.agent.Hook;
import dev.katashim.protocols.kata.agent.Hooks;
import dev.katashim.protocols.kata.agent.LinuxMemory;
import dev.katashim.protocols.kata.agent.LinuxPids;
import dev.katashim.protocols.kata.agent.LinuxResources;
import dev.katashim.protocols.kata.agent.ListProcessesRequest;
import dev.katashim.protocols.kata.agent.ListProcessesResponse;
import dev.katashim.protocols.kata.agent.OOMEvent;
import dev.katashim.protocols.kata.agent.PauseContainerRequest;
import dev.katashim.protocols.kata.agent.Process;
import dev.katashim.protocols.kata.agent.RemoveContainerRequest;
import dev.katashim.protocols.kata.agent.ResumeContainerRequest;
import dev.katashim.protocols.kata.agent.SignalProcessRequest;
import dev.katashim.protocols.kata.agent.Spec;
import dev.katashim.protocols.kata.agent.StartContainerRequest;
import dev.katashim.protocols.kata.agent.StatsContainerRequest;
import dev.katashim.protocols.kata.agent.StatsContainerResponse;
import dev.katashim.protocols.kata.agent.TtyWinResizeRequest;
import dev.katashim.protocols.kata.agent.UpdateContainerRequest;
import dev.katashim.ttrpc.client.CallOptions;
import dev.katashim.ttrpc.status.StatusCode;
import dev.katashim.ttrpc.status.TtrpcException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** Containers run by the agent with the host's runc, driven through the agent API as a shim drives it. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ContainerLifecycleTest {
    /** A start's caller deadline in the slow-start test: the agent keeps back 2 s of it (a tenth, at least 1 s) to clean up and answer. */
    private static final Duration CALLER_DEADLINE = Duration.ofSeconds(20);
    /** How long a SIGKILLed process may take to be gone (a zombie has no command line), on a loaded machine. */
    private static final Duration KILL_DEADLINE = Duration.ofSeconds(10);
    private static AgentFixture agent;

    @BeforeAll
    static void startAgent() throws Exception {
        agent = AgentFixture.start();
    }

    @AfterEach
    void noLeftovers() throws Exception {
        agent.cleanUp();
    }

    @AfterAll
    static void stopAgent() throws Exception {
        if (agent != null) {
            agent.close();
        }
    }

    private Spec.Builder busybox(String... args) {
        return Specs.busybox(agent.rootfs, args);
    }

    @Test
    void containerOutputAndExitCodeReachTheCaller() throws Exception {
        agent.createAndStart("out", busybox("sh", "-c", "echo hello from $(hostname); echo oops >&2; exit 7").build());

        assertThat(agent.readAll("ReadStdout", "out", "")).isEqualTo("hello from busybox\n");
        assertThat(agent.readAll("ReadStderr", "out", "")).isEqualTo("oops\n");
        assertThat(agent.await("out", "")).isEqualTo(7);

        agent.call("RemoveContainer", RemoveContainerRequest.newBuilder().setContainerId("out").build());
        agent.assertContainerGone("out");
    }

    @Test
    void stdinReachesTheContainerAndCloseEndsIt() throws Exception {
        agent.createAndStart("in", busybox("sh", "-c", "read line; echo got:$line; cat | wc -c").build());

        assertThat(agent.write("in", "in", "first line\n".getBytes(StandardCharsets.UTF_8))).isEqualTo(11);
        assertThat(new String(agent.readChunk("ReadStdout", "in", "in", 1024), StandardCharsets.UTF_8)).isEqualTo("got:first line\n");
        assertThat(agent.write("in", "in", "12345".getBytes(StandardCharsets.UTF_8))).isEqualTo(5);
        agent.call("CloseStdin", CloseStdinRequest.newBuilder().setContainerId("in").setExecId("in").build());

        assertThat(agent.readAll("ReadStdout", "in", "in").strip()).isEqualTo("5");
        assertThat(agent.await("in", "in")).isZero();
    }

    @Test
    void execRunsASecondProcessInTheContainer() throws Exception {
        agent.createAndStart("ex", busybox("sleep", "300").build());

        agent.exec("ex", "e1", Specs.process("sh", "-c", "echo pid1=$(cat /proc/1/comm); exit 3"));
        assertThat(agent.readAll("ReadStdout", "ex", "e1")).isEqualTo("pid1=sleep\n");
        assertThat(agent.await("ex", "e1")).isEqualTo(3);
        // Waited for: the exec is forgotten, as upstream's agent does.
        assertThat(agent.failure("WaitProcess", dev.katashim.protocols.kata.agent.WaitProcessRequest.newBuilder()
                .setContainerId("ex").setExecId("e1").build()).code())
                .isEqualTo(dev.katashim.ttrpc.status.StatusCode.NOT_FOUND);

        agent.call("SignalProcess", SignalProcessRequest.newBuilder().setContainerId("ex").setSignal(9).build());
        assertThat(agent.await("ex", "")).isEqualTo(128 + 9);
    }

    @Test
    void signalsReachTheirProcess() throws Exception {
        // An init with a TERM handler gets TERM itself.
        agent.createAndStart("sig", busybox("sh", "-c", "trap 'echo term; exit 42' TERM; echo ready; while true; do sleep 0.1; done").build());
        assertThat(new String(agent.readChunk("ReadStdout", "sig", "", 64), StandardCharsets.UTF_8)).isEqualTo("ready\n");
        // An exec that is signalled alone, the container going on.
        agent.exec("sig", "sleeper", Specs.process("sleep", "300"));
        agent.call("SignalProcess", SignalProcessRequest.newBuilder().setContainerId("sig").setExecId("sleeper").setSignal(15).build());
        assertThat(agent.await("sig", "sleeper")).isEqualTo(128 + 15);

        agent.call("SignalProcess", SignalProcessRequest.newBuilder().setContainerId("sig").setExecId("sig").setSignal(15).build());
        assertThat(agent.readAll("ReadStdout", "sig", "")).isEqualTo("term\n");
        assertThat(agent.await("sig", "")).isEqualTo(42);

        // An init without a TERM handler would ignore it (pid 1): the agent kills it instead, as upstream.
        agent.createAndStart("sig2", busybox("sleep", "300").build());
        agent.call("SignalProcess", SignalProcessRequest.newBuilder().setContainerId("sig2").setExecId("sig2").setSignal(15).build());
        assertThat(agent.await("sig2", "")).isEqualTo(128 + 9);
        // Killing a stopped container again is fine (StopPodSandbox must be repeatable).
        agent.call("SignalProcess", SignalProcessRequest.newBuilder().setContainerId("sig2").setSignal(9).build());
    }

    @Test
    void pauseAndResumeShowInRuncState() throws Exception {
        agent.createAndStart("pz", busybox("sleep", "300").build());
        assertThat(runcStatus("pz")).isEqualTo("running");

        agent.call("PauseContainer", PauseContainerRequest.newBuilder().setContainerId("pz").build());
        assertThat(runcStatus("pz")).isEqualTo("paused");
        // A paused container still lists its processes.
        ListProcessesResponse json = agent.call("ListProcesses", ListProcessesRequest.newBuilder().setContainerId("pz")
                .setFormat("json").build(), ListProcessesResponse.parser());
        assertThat(json.getProcessList().toStringUtf8()).isEqualTo(runcPids("pz").toString().replace(" ", ""));
        ListProcessesResponse table = agent.call("ListProcesses", ListProcessesRequest.newBuilder().setContainerId("pz")
                .setFormat("table").build(), ListProcessesResponse.parser());
        assertThat(table.getProcessList().toStringUtf8()).contains("PID").contains("sleep 300");

        agent.call("ResumeContainer", ResumeContainerRequest.newBuilder().setContainerId("pz").build());
        assertThat(runcStatus("pz")).isEqualTo("running");
    }

    @Test
    void statsMatchTheContainer() throws Exception {
        Spec spec = busybox("sh", "-c", "sleep 300 & sleep 300 & echo started; wait")
                .setLinux(busybox().getLinux().toBuilder().setResources(LinuxResources.newBuilder()
                        .setMemory(LinuxMemory.newBuilder().setLimit(64L << 20))
                        .setPids(LinuxPids.newBuilder().setLimit(50))))
                .build();
        agent.createAndStart("st", spec);
        assertThat(new String(agent.readChunk("ReadStdout", "st", "", 64), StandardCharsets.UTF_8)).isEqualTo("started\n");

        StatsContainerResponse stats = agent.call("StatsContainer", StatsContainerRequest.newBuilder().setContainerId("st").build(),
                StatsContainerResponse.parser());
        CgroupStats cgroup = stats.getCgroupStats();
        List<String> pids = runcPids("st");
        assertThat(pids).hasSize(3); // sh and two sleeps
        assertThat(cgroup.getPidsStats().getCurrent()).isEqualTo(pids.size());
        assertThat(cgroup.getPidsStats().getLimit()).isEqualTo(50);
        assertThat(cgroup.getMemoryStats().getUsage().getUsage()).isPositive();
        assertThat(cgroup.getMemoryStats().getUsage().getLimit()).isEqualTo(64L << 20);
        assertThat(cgroup.getCpuStats().getCpuUsage().getTotalUsage()).isPositive();
        assertThat(cgroup.getMemoryStats().getStatsMap()).isNotEmpty();
        // Its own network namespace: a loopback device only.
        assertThat(stats.getNetworkStatsList()).extracting(s -> s.getName()).containsExactly("lo");

        // UpdateContainer changes the live cgroup; stats see it.
        agent.call("UpdateContainer", UpdateContainerRequest.newBuilder().setContainerId("st")
                .setResources(LinuxResources.newBuilder().setMemory(LinuxMemory.newBuilder().setLimit(96L << 20))).build());
        stats = agent.call("StatsContainer", StatsContainerRequest.newBuilder().setContainerId("st").build(), StatsContainerResponse.parser());
        assertThat(stats.getCgroupStats().getMemoryStats().getUsage().getLimit()).isEqualTo(96L << 20);
    }

    @Test
    void statsReadFromTheCgroupFilesAgreeWithRuncsOwn() throws Exception {
        Spec spec = busybox("sh", "-c", "i=0; while [ $i -lt 3000 ]; do i=$((i+1)); done; echo busy; sleep 300")
                .setLinux(busybox().getLinux().toBuilder().setResources(LinuxResources.newBuilder()
                        .setMemory(LinuxMemory.newBuilder().setLimit(48L << 20))
                        .setPids(LinuxPids.newBuilder().setLimit(20))))
                .build();
        agent.createAndStart("cmp", spec);
        assertThat(new String(agent.readChunk("ReadStdout", "cmp", "", 64), StandardCharsets.UTF_8)).isEqualTo("busy\n");

        CgroupStats ours = agent.call("StatsContainer", StatsContainerRequest.newBuilder().setContainerId("cmp").build(),
                StatsContainerResponse.parser()).getCgroupStats();
        CgroupStats runcs = CgroupStatsMapper.map(runcEventsStats("cmp")); // read after ours: counters only grow

        assertThat(ours.getPidsStats()).isEqualTo(runcs.getPidsStats());
        assertThat(ours.getMemoryStats().getUsage().getLimit()).isEqualTo(runcs.getMemoryStats().getUsage().getLimit()).isEqualTo(48L << 20);
        assertThat(ours.getMemoryStats().getSwapUsage().getLimit()).isEqualTo(runcs.getMemoryStats().getSwapUsage().getLimit());
        assertThat(ours.getMemoryStats().getUseHierarchy()).isEqualTo(runcs.getMemoryStats().getUseHierarchy());
        assertThat(ours.getMemoryStats().getStatsMap().keySet()).isEqualTo(runcs.getMemoryStats().getStatsMap().keySet());
        assertThat(ours.getMemoryStats().getUsage().getUsage()).isPositive();
        long cpu = ours.getCpuStats().getCpuUsage().getTotalUsage();
        assertThat(cpu).isPositive().isLessThanOrEqualTo(runcs.getCpuStats().getCpuUsage().getTotalUsage());
        assertThat(ours.getCpuStats().getCpuUsage().getPercpuUsageCount()).isEqualTo(runcs.getCpuStats().getCpuUsage().getPercpuUsageCount());
        assertThat(ours.getCpuStats().getCpuUsage().getUsageInUsermode() + ours.getCpuStats().getCpuUsage().getUsageInKernelmode())
                .isLessThanOrEqualTo(runcs.getCpuStats().getCpuUsage().getUsageInUsermode() + runcs.getCpuStats().getCpuUsage().getUsageInKernelmode());
        assertThat(ours.getBlkioStats().getIoServiceBytesRecursiveList()).extracting(e -> e.getMajor() + ":" + e.getMinor() + " " + e.getOp())
                .isEqualTo(runcs.getBlkioStats().getIoServiceBytesRecursiveList().stream().map(e -> e.getMajor() + ":" + e.getMinor() + " " + e.getOp()).toList());
        assertThat(ours.getHugetlbStatsMap().keySet()).isEqualTo(runcs.getHugetlbStatsMap().keySet());
    }

    @Test
    void terminalProcessesGetAPtyThatCanBeResized() throws Exception {
        Process tty = Specs.process("sh", "-c", "tty; stty size; read x; stty size").toBuilder()
                .setTerminal(true).setConsoleSize(Box.newBuilder().setHeight(24).setWidth(80)).build();
        agent.createAndStart("tty", Specs.busybox(agent.rootfs, tty).build());

        String first = readUntil("tty", "tty", "24 80");
        assertThat(first).contains("/dev/pts/0").contains("24 80");
        agent.call("TtyWinResize", TtyWinResizeRequest.newBuilder().setContainerId("tty").setExecId("tty").setRow(50).setColumn(132).build());
        agent.write("tty", "tty", "go\r".getBytes(StandardCharsets.UTF_8));
        assertThat(agent.readAll("ReadStdout", "tty", "tty")).contains("50 132");
        assertThat(agent.await("tty", "tty")).isZero();
        // A terminal merges stderr into stdout.
        assertThat(agent.readAll("ReadStderr", "tty", "tty")).isEmpty();
    }

    @Test
    void anOomKillIsReportedByGetOomEvent() throws Exception {
        CompletableFuture<OOMEvent> oom = agent.client.call(AgentFixture.SERVICE, "GetOOMEvent",
                GetOOMEventRequest.getDefaultInstance(), OOMEvent.parser(), CallOptions.DEFAULT);
        Spec spec = busybox("sh", "-c", "sleep 0.5; x=0123456789; while true; do x=$x$x; done")
                .setLinux(busybox().getLinux().toBuilder().setResources(LinuxResources.newBuilder()
                        .setMemory(LinuxMemory.newBuilder().setLimit(16L << 20).setSwap(16L << 20))))
                .build();
        agent.createAndStart("oom", spec);

        assertThat(oom.get(30, TimeUnit.SECONDS).getContainerId()).isEqualTo("oom");
        assertThat(agent.await("oom", "")).isEqualTo(128 + 9);
    }

    private String readUntil(String id, String execId, String marker) throws InterruptedException {
        StringBuilder seen = new StringBuilder();
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!seen.toString().contains(marker) && System.nanoTime() < deadline) {
            byte[] chunk = agent.readChunk("ReadStdout", id, execId, 1024);
            if (chunk.length == 0) {
                break;
            }
            seen.append(new String(chunk, StandardCharsets.UTF_8));
        }
        return seen.toString();
    }

    private String runcStatus(String id) throws Exception {
        java.lang.Process p = new ProcessBuilder(AgentOptions.findRunc().toString(), "--root",
                agent.stateDir.resolve("runc").toString(), "state", id).start();
        JsonNode state = new ObjectMapper().readTree(p.getInputStream());
        assertThat(p.waitFor()).isZero();
        return state.path("status").asText();
    }

    /** The {@code data} of {@code runc events --stats}: runc's own sample of the container's cgroup. */
    private JsonNode runcEventsStats(String id) throws Exception {
        java.lang.Process p = new ProcessBuilder(AgentOptions.findRunc().toString(), "--root",
                agent.stateDir.resolve("runc").toString(), "events", "--stats", id).start();
        JsonNode event = new ObjectMapper().readTree(p.getInputStream());
        assertThat(p.waitFor()).isZero();
        return event.path("data");
    }

    private List<String> runcPids(String id) throws Exception {
        java.lang.Process p = new ProcessBuilder(AgentOptions.findRunc().toString(), "--root",
                agent.stateDir.resolve("runc").toString(), "ps", "--format", "json", id).start();
        JsonNode pids = new ObjectMapper().readTree(p.getInputStream());
        assertThat(p.waitFor()).isZero();
        return java.util.stream.StreamSupport.stream(pids.spliterator(), false).map(JsonNode::asText).toList();
    }

    @Test
    void aStartSlowerThanTheCallersDeadlineFailsWithTheAgentsReasonAndKillsWhatRuncStarted() throws Exception {
        Path marker = agent.dir.resolve("hook-ran");
        Hook hang = Hook.newBuilder().setPath("/bin/sh")
                .addArgs("sh").addArgs("-c").addArgs("touch " + marker + "; exec sleep 600").build();
        agent.create("slow", Specs.busybox(agent.rootfs, "true")
                .setHooks(Hooks.newBuilder().addCreateRuntime(hang)).build());

        TtrpcException e = catchThrowableOfType(TtrpcException.class, () -> agent.client.blockingCall(AgentFixture.SERVICE,
                "StartContainer", StartContainerRequest.newBuilder().setContainerId("slow").build(), Empty.parser(),
                CallOptions.timeout(CALLER_DEADLINE)));

        assertThat(marker).as("runc ran the hook").exists();
        assertThat(e).as("StartContainer must fail").isNotNull();
        assertThat(e.code()).as("the agent's answer, not the caller's deadline: %s", e.getMessage()).isEqualTo(StatusCode.INTERNAL);
        assertThat(e.getMessage()).containsPattern("did not start within 1[78]\\.\\d s").contains("create_container_timeout");
        long deadline = System.nanoTime() + KILL_DEADLINE.toNanos();
        while (hookProcesses(marker) > 0 && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertThat(hookProcesses(marker)).as("the hung hook is killed with runc").isZero();
        agent.assertServing();
    }

    /** Live processes whose command line names the marker: the hook's shell or its sleep. */
    private static long hookProcesses(Path marker) {
        return ProcessHandle.allProcesses()
                .filter(p -> p.info().commandLine().map(line -> line.contains(marker.toString())).orElse(false))
                .count();
    }
}
