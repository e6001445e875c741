package dev.katashim.it.shim;

import dev.katashim.it.support.BusyboxRootfs;
import dev.katashim.it.support.CommandResult;
import dev.katashim.it.support.PrivateContainerd;
import dev.katashim.it.support.Processes;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * containerd runs containers through our containerd-shim-kata-v2 (no-VM sandbox): a private
 * containerd 1.6 finds the launcher on its PATH for {@code --runtime io.containerd.kata.v2}.
 */
class KataShimEndToEndTest {
    static final String RUNTIME = "io.containerd.kata.v2";
    /** How long to wait for what a container does after Start has returned: generous, for a loaded machine. */
    private static final Duration UNDER_LOAD_DEADLINE = Duration.ofSeconds(30);
    private static PrivateContainerd containerd;
    private static BusyboxRootfs rootfs;

    @BeforeAll
    static void start(@TempDir Path dir) {
        Path repo = Path.of("").toAbsolutePath().getParent();
        containerd = PrivateContainerd.builder().prependToPath(repo.resolve("bin"))
                .environment("KATA_CONF_FILE", KataConfigs.noVm(dir).toString()).start();
        rootfs = BusyboxRootfs.create(dir.resolve("rootfs"));
    }

    @AfterAll
    static void stop() {
        if (containerd != null) {
            containerd.close();
        }
    }

    static CommandResult run(String id, String... command) {
        List<String> args = new ArrayList<>(List.of("run", "--rm", "--runtime", RUNTIME, "--rootfs", rootfs.path().toString(), id));
        args.addAll(Arrays.asList(command));
        return containerd.ctr(args.toArray(String[]::new));
    }

    @Test
    void echoPrintsHelloAndExitsZero() {
        CommandResult result = run(containerd.uniqueId("t1"), "/bin/echo", "hello");
        assertThat(result.exitCode()).as(result + "\n" + containerd.log()).isZero();
        assertThat(result.stdout()).isEqualTo("hello\n");
    }

    @Test
    void exitCodeComesBack() {
        CommandResult result = run(containerd.uniqueId("t2"), "/bin/sh", "-c", "echo out; echo err >&2; exit 3");
        assertThat(result.exitCode()).as(result.toString()).isEqualTo(3);
        assertThat(result.stdout()).isEqualTo("out\n");
        assertThat(result.stderr()).contains("err\n");
    }

    @Test
    void stdinReachesTheContainer() {
        String id = containerd.uniqueId("t3");
        CommandResult result = containerd.ctrWithInput("data\nmore\n".getBytes(StandardCharsets.UTF_8), Duration.ofSeconds(60),
                "run", "--rm", "--runtime", RUNTIME, "--rootfs", rootfs.path().toString(), id, "/bin/head", "-n", "1");
        assertThat(result.exitCode()).as(result.toString()).isZero();
        assertThat(result.stdout()).isEqualTo("data\n");
    }

    @Test
    void fileLogUriGetsTheOutput(@TempDir Path logs) throws Exception {
        Path log = logs.resolve("sub/out.log");
        String id = containerd.uniqueId("tlog");
        CommandResult result = containerd.ctr("run", "--rm", "--runtime", RUNTIME, "--log-uri", "file://" + log,
                "--rootfs", rootfs.path().toString(), id, "/bin/sh", "-c", "echo to-stdout; echo to-stderr >&2");
        assertThat(result.exitCode()).as(result.toString()).isZero();
        assertThat(Files.readString(log)).contains("to-stdout\n").contains("to-stderr\n");
    }

    @Test
    void detachedContainerKilledWithTermThenKill() {
        String id = containerd.uniqueId("t4");
        CommandResult run = containerd.ctr("run", "-d", "--runtime", RUNTIME, "--rootfs", rootfs.path().toString(), id,
                "/bin/sh", "-c", "trap 'exit 143' TERM; while :; do sleep 1; done");
        assertThat(run.exitCode()).as(run.toString()).isZero();
        List<String> row = taskRow(id);
        assertThat(row.get(2)).isEqualTo("RUNNING");
        assertThat(Integer.parseInt(row.get(1))).isPositive();

        assertThat(containerd.ctr("task", "kill", id).exitCode()).isZero();
        await().atMost(Duration.ofSeconds(20)).until(() -> taskRow(id).get(2).equals("STOPPED"));
        // ctr 1.6 reports a task's exit code as a warning and exits 0
        CommandResult rm = containerd.ctr("task", "rm", id);
        assertThat(rm.stderr()).as(rm.toString()).contains("exit with non-zero exit code 143");
        assertThat(containerd.ctr("c", "rm", id).exitCode()).isZero();
        assertNothingLeftFor(id);

        String id2 = containerd.uniqueId("t5");
        assertThat(containerd.ctr("run", "-d", "--runtime", RUNTIME, "--rootfs", rootfs.path().toString(), id2,
                "/bin/sh", "-c", "trap 'exit 143' TERM; while :; do sleep 1; done").exitCode()).isZero();
        assertThat(containerd.ctr("task", "kill", "-s", "KILL", id2).exitCode()).isZero();
        await().atMost(Duration.ofSeconds(20)).until(() -> taskRow(id2).get(2).equals("STOPPED"));
        assertThat(containerd.ctr("task", "rm", id2).stderr()).contains("exit with non-zero exit code 137");
        assertThat(containerd.ctr("c", "rm", id2).exitCode()).isZero();
        assertNothingLeftFor(id2);
    }

    @Test
    void ctrTaskMetricsShowsTheContainersCgroup() {
        String id = containerd.uniqueId("tmet");
        assertThat(containerd.ctr("run", "-d", "--runtime", RUNTIME, "--rootfs", rootfs.path().toString(), id,
                "/bin/sh", "-c", "sleep 300 & sleep 301").exitCode()).isZero();
        // the shell forks its first sleep after Start has returned: until then the cgroup holds one process
        await().atMost(UNDER_LOAD_DEADLINE).untilAsserted(() -> {
            CommandResult metrics = containerd.ctr("task", "metrics", id);
            assertThat(metrics.exitCode()).as(metrics.toString()).isZero();
            java.util.Map<String, String> table = new java.util.HashMap<>();
            metrics.stdout().lines().map(l -> l.trim().split("\\s+", 2)).filter(f -> f.length == 2).forEach(f -> table.put(f[0], f[1]));
            assertThat(Long.parseLong(table.get("memory.usage_in_bytes"))).as(metrics.stdout()).isPositive();
            assertThat(Long.parseLong(table.get("cpuacct.usage"))).isPositive();
            assertThat(table.get("pids.current")).isEqualTo("2");
        });
        containerd.ctr("task", "kill", "-s", "KILL", id);
        await().atMost(Duration.ofSeconds(20)).until(() -> taskRow(id).get(2).equals("STOPPED"));
        containerd.ctr("task", "rm", id);
        assertThat(containerd.ctr("c", "rm", id).exitCode()).isZero();
    }

    @Test
    void killedShimIsCleanedUpByDelete() throws Exception {
        String id = containerd.uniqueId("t6");
        assertThat(containerd.ctr("run", "-d", "--runtime", RUNTIME, "--rootfs", rootfs.path().toString(), id,
                "/bin/sleep", "300").exitCode()).isZero();
        long shimPid = Processes.shimServing(id).pid();
        ProcessHandle.of(shimPid).orElseThrow().destroyForcibly();
        await().atMost(Duration.ofSeconds(10)).until(() -> ProcessHandle.of(shimPid).map(p -> !p.isAlive()).orElse(true));
        CommandResult rm = containerd.ctr("task", "rm", "-f", id);
        assertThat(containerd.ctr("c", "rm", id).exitCode()).as(rm + " / " + containerd.log()).isZero();
        assertNothingLeftFor(id);
    }

    private static List<String> taskRow(String id) {
        CommandResult ls = containerd.ctr("task", "ls");
        return ls.stdout().lines().filter(l -> l.startsWith(id + " ")).findFirst()
                .map(l -> Arrays.asList(l.trim().split("\\s+"))).orElse(List.of(id, "0", "GONE"));
    }

    private static void assertNothingLeftFor(String id) {
        Path sandbox = containerd.directory().resolve("sbs").resolve(id);
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            assertThat(sandbox).doesNotExist();
            assertThat(containerd.shimSocket(id)).doesNotExist();
            assertThat(ProcessHandle.allProcesses().filter(p -> p.info().commandLine()
                    .map(c -> c.contains(id)).orElse(false)).map(p -> p.pid() + " " + p.info().commandLine().orElse("")).toList())
                    .isEmpty();
            assertThat(Files.readString(Path.of("/proc/self/mountinfo"))).doesNotContain(id);
            try (var hierarchies = Files.list(Path.of("/sys/fs/cgroup"))) {
                assertThat(hierarchies.map(h -> h.resolve("kata_overhead").resolve(id)).filter(Files::exists).toList())
                        .as("the sandbox's host cgroup").isEmpty();
            }
        });
    }
}
