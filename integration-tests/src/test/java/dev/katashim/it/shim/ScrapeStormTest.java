package dev.katashim.it.shim;

import dev.katashim.it.support.BusyboxRootfs;
import dev.katashim.it.support.CommandResult;
import dev.katashim.it.support.PrivateContainerd;
import dev.katashim.metrics.server.HttpClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.LongAdder;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A scrape storm on one sandbox (no-VM, started by a real containerd): 100 clients scraping its
 * management socket back to back for 10 s. Every scrape gets an answer (200, or 503 once the queue
 * is full) within its deadline, and the pod carries on: its container's heartbeat keeps beating, an
 * exec into it works during the storm, and it still runs afterwards.
 */
class ScrapeStormTest {
    private static final int CLIENTS = 100;
    private static final Duration STORM = Duration.ofSeconds(10);
    /** How long one scrape may take in the storm here, both cores busy (the shim's queue waits up to 10 s, then says 503). */
    private static final Duration SCRAPE_DEADLINE = Duration.ofSeconds(20);
    /** How long an exec into the pod may take during the storm, both cores busy. */
    private static final Duration EXEC_DEADLINE = Duration.ofSeconds(30);

    @Test
    void aHundredClientsScrapingForTenSecondsGetAnswersAndThePodCarriesOn(@TempDir Path dir) throws Exception {
        Path repo = Path.of("").toAbsolutePath().getParent();
        try (PrivateContainerd containerd = PrivateContainerd.builder().prependToPath(repo.resolve("bin"))
                .commandTimeout(EXEC_DEADLINE).environment("KATA_CONF_FILE", KataConfigs.noVm(dir).toString()).start()) {
            Path rootfs = BusyboxRootfs.create(dir.resolve("rootfs")).path();
            String id = containerd.uniqueId("storm");
            // the no-VM sandbox runs the container on this rootfs directory: its heartbeat file is readable here
            assertThat(containerd.ctr("run", "-d", "--runtime", "io.containerd.kata.v2", "--rootfs", rootfs.toString(), id,
                    "/bin/sh", "-c", "i=0; while true; do i=$((i+1)); echo $i > /beat; sleep 0.2; done").exitCode()).isZero();
            Path beat = rootfs.resolve("beat");
            await().atMost(EXEC_DEADLINE).until(() -> Files.exists(beat) && heartbeat(beat) > 0);
            Path socket = containerd.directory().resolve("sbs").resolve(id).resolve("shim-monitor.sock");
            long idleExec = timedExec(containerd, id);

            Map<String, LongAdder> outcomes = new ConcurrentHashMap<>();
            long end = System.nanoTime() + STORM.toNanos();
            List<Thread> clients = new ArrayList<>();
            for (int i = 0; i < CLIENTS; i++) {
                clients.add(Thread.ofVirtual().start(() -> {
                    while (System.nanoTime() < end) {
                        String outcome;
                        try {
                            outcome = Integer.toString(HttpClient.get(socket, "/metrics", "text/plain", SCRAPE_DEADLINE).get().status());
                        } catch (ExecutionException e) {
                            outcome = e.getCause().getClass().getSimpleName() + ": " + e.getCause().getMessage();
                        } catch (InterruptedException e) {
                            return;
                        }
                        outcomes.computeIfAbsent(outcome, o -> new LongAdder()).increment();
                    }
                }));
            }
            long beatBefore = heartbeat(beat);
            Thread.sleep(STORM.toMillis() / 2);
            long stormExec = timedExec(containerd, id);
            for (Thread client : clients) {
                client.join(SCRAPE_DEADLINE.plus(STORM));
            }
            long beatAfter = heartbeat(beat);

            System.out.printf("scrape storm: %s; exec idle %d ms, during the storm %d ms; heartbeat %d -> %d%n",
                    outcomes, idleExec / 1_000_000, stormExec / 1_000_000, beatBefore, beatAfter);
            assertThat(outcomes.keySet()).as("every scrape answered 200, or 503 when the queue was full").isSubsetOf("200", "503");
            assertThat(outcomes.get("200").sum()).as("scrapes served").isGreaterThanOrEqualTo(CLIENTS);
            assertThat(beatAfter).as("the container's heartbeat went on during the storm").isGreaterThan(beatBefore);
            CommandResult tasks = containerd.ctr("task", "ls");
            assertThat(tasks.stdout()).contains(id).contains("RUNNING");
            assertThat(HttpClient.getBlocking(socket, "/metrics", "text/plain", SCRAPE_DEADLINE).status()).isEqualTo(200);
            containerd.ctr("task", "kill", "-s", "KILL", id);
        }
    }

    private static long heartbeat(Path beat) {
        try {
            String text = Files.readString(beat).strip();
            return text.isEmpty() ? 0 : Long.parseLong(text);
        } catch (Exception e) {
            return 0; // being rewritten
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
