package dev.katashim.it.shim;

import dev.katashim.it.peers.TaskApiClient;
import dev.katashim.it.support.BusyboxRootfs;
import dev.katashim.it.support.CommandResult;
import dev.katashim.it.support.PrivateContainerd;
import dev.katashim.metrics.server.HttpClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A scrape storm on one sandbox (no-VM, started by a real containerd): 100 clients scraping its
 * management socket back to back for 10 s. Every scrape gets an answer (200, or 503 once the queue
 * is full) within its deadline, and the pod carries on: its container's heartbeat keeps beating, an
 * exec into it works during the storm, the medians of State and Stats stay within twice those of
 * the windows before and after, and it still runs afterwards.
 */
class ScrapeStormTest {
    private static final int CLIENTS = 100;
    private static final Duration STORM = Duration.ofSeconds(10);
    /** How long one scrape may take in the storm here, both cores busy (the shim's queue waits up to 10 s, then says 503). */
    private static final Duration SCRAPE_DEADLINE = Duration.ofSeconds(20);
    /** How long an exec into the pod may take during the storm, both cores busy. */
    private static final Duration EXEC_DEADLINE = Duration.ofSeconds(30);
    /** How long State and Stats are called before they are measured. */
    private static final Duration WARM_UP = Duration.ofSeconds(3);
    /** How long State and Stats are measured: before, in the storm (the exec comes after, still in it), after. */
    private static final Duration RPC_WINDOW = Duration.ofSeconds(6);
    /** How much slower an RPC's median may be during the storm than idle: the bound. */
    private static final double MAX_SLOWDOWN = 2.0;

    @Test
    void aHundredClientsScrapingForTenSecondsGetAnswersAndThePodCarriesOn(@TempDir Path dir) throws Exception {
        Path repo = Path.of("").toAbsolutePath().getParent();
        try (PrivateContainerd containerd = PrivateContainerd.builder().prependToPath(repo.resolve("bin"))
                .commandTimeout(EXEC_DEADLINE).environment("KATA_CONF_FILE", KataConfigs.noVm(dir).toString()).start()) {
            Path rootfs = BusyboxRootfs.create(dir.resolve("rootfs")).path();
            String id = containerd.uniqueId("storm");
            // the no-VM sandbox runs the container on this rootfs directory: its heartbeat file is readable here
            List<String> run = new ArrayList<>(List.of("run", "-d", "--runtime", "io.containerd.kata.v2", "--rootfs", rootfs.toString(), id));
            run.addAll(Heartbeat.COMMAND);
            assertThat(containerd.ctr(run.toArray(String[]::new)).exitCode()).isZero();
            await().atMost(EXEC_DEADLINE).until(() -> Heartbeat.read(rootfs) > 0);
            Path socket = containerd.directory().resolve("sbs").resolve(id).resolve("shim-monitor.sock");
            long idleExec = timedExec(containerd, id);

            RpcTimes idle = new RpcTimes();
            RpcTimes during = new RpcTimes();
            RpcTimes after = new RpcTimes();
            long beatBefore;
            long stormExec;
            Map<String, Long> outcomes;
            try (TaskApiClient task = TaskApiClient.connect(containerd.shimSocket(id), containerd.namespace(), 2, EXEC_DEADLINE)) {
                new RpcTimes().measure(task, id, WARM_UP);
                idle.measure(task, id, RPC_WINDOW);
                beatBefore = Heartbeat.read(rootfs);
                ScrapeStorm storm = ScrapeStorm.start(socket, CLIENTS, STORM, SCRAPE_DEADLINE);
                during.measure(task, id, RPC_WINDOW);
                stormExec = timedExec(containerd, id);
                outcomes = storm.outcomes();
                after.measure(task, id, RPC_WINDOW);
            }
            long beatAfter = Heartbeat.read(rootfs);

            System.out.printf("scrape storm: %s; exec idle %d ms, during the storm %d ms; heartbeat %d -> %d%n%s%n",
                    outcomes, idleExec / 1_000_000, stormExec / 1_000_000, beatBefore, beatAfter, during.against(idle, after));
            assertThat(outcomes.keySet()).as("every scrape answered 200, or 503 when the queue was full").isSubsetOf("200", "503");
            assertThat(outcomes.getOrDefault("200", 0L)).as("scrapes served").isGreaterThanOrEqualTo(CLIENTS);
            assertThat(beatAfter).as("the container's heartbeat went on during the storm").isGreaterThan(beatBefore);
            during.assertMediansWithin(MAX_SLOWDOWN, idle, after);
            CommandResult tasks = containerd.ctr("task", "ls");
            assertThat(tasks.stdout()).contains(id).contains("RUNNING");
            assertThat(HttpClient.getBlocking(socket, "/metrics", "text/plain", SCRAPE_DEADLINE).status()).isEqualTo(200);
            containerd.ctr("task", "kill", "-s", "KILL", id);
        }
    }

    /** Runs {@code echo} in the pod; its wall time in nanoseconds. */
    private static long timedExec(PrivateContainerd containerd, String id) {
        long start = System.nanoTime();
        CommandResult echo = containerd.ctr("task", "exec", "--exec-id", containerd.uniqueId("e"), id, "/bin/echo", "alive");
        long took = System.nanoTime() - start;
        assertThat(echo.exitCode()).as(echo.toString()).isZero();
        assertThat(echo.stdout()).contains("alive");
        return took;
    }
}
