package dev.katashim.it.shim;

import dev.katashim.it.support.BackgroundCommand;
import dev.katashim.it.support.BusyboxRootfs;
import dev.katashim.it.support.PrivateContainerd;
import dev.katashim.metrics.server.HttpClient;
import dev.katashim.metrics.support.StrictPrometheusText;
import dev.katashim.metrics.support.StrictPrometheusText.Family;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A sandbox's management socket from the first moment of its boot to its teardown, in the no-VM
 * sandbox started by a real containerd. The host agent is started through a wrapper that waits
 * {@link #AGENT_DELAY} first (a real process, slow as a guest booting under TCG): meanwhile a scrape
 * is answered at once with what the shim knows. While the pod is torn down, scrapers keep asking:
 * each gets 200, 503, or no connection (refused, or closed as the server goes), and none hangs.
 */
class ScrapesThroughBootAndTeardownTest {
    /** How long the wrapper holds the agent back: longer than a scrape may take, so a scrape that waited for the agent fails. */
    private static final Duration AGENT_DELAY = Duration.ofSeconds(15);
    /** How long one scrape may take here with both cores busy. */
    private static final Duration SCRAPE_DEADLINE = Duration.ofSeconds(5);
    /** How long the socket may take to appear, and the sandbox to go, with both cores busy. */
    private static final Duration SANDBOX_DEADLINE = Duration.ofSeconds(60);

    @Test
    void aBootingSandboxAnswersAtOnceAndATornDownOneNeverHangsAScrape(@TempDir Path dir) throws Exception {
        Path repo = Path.of("").toAbsolutePath().getParent();
        Path slowAgent = dir.resolve("slow-agent");
        Files.writeString(slowAgent, "#!/bin/sh\n# a real agent, started late: a guest still booting\nsleep "
                + AGENT_DELAY.toSeconds() + "\nexec \"$@\"\n");
        Files.setPosixFilePermissions(slowAgent, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path config = KataConfigs.write(dir.resolve("configuration-slow-agent.toml"), "[hypervisor.none]\nagent = \""
                + slowAgent + " " + repo.resolve("guest-agent/bin/kata-guest-agent") + "\"\n\n[agent.kata]\ndial_timeout = 120\n");
        try (PrivateContainerd containerd = PrivateContainerd.builder().prependToPath(repo.resolve("bin"))
                .commandTimeout(Duration.ofMinutes(2)).environment("KATA_CONF_FILE", config.toString()).start()) {
            String rootfs = BusyboxRootfs.create(dir.resolve("rootfs")).path().toString();
            String id = containerd.uniqueId("boot");
            Path socket = containerd.directory().resolve("sbs").resolve(id).resolve("shim-monitor.sock");
            try (BackgroundCommand run = containerd.ctrInBackground("run", "-d", "--runtime", "io.containerd.kata.v2",
                    "--rootfs", rootfs, id, "/bin/sleep", "600")) {
                await().atMost(SANDBOX_DEADLINE).until(() -> Files.exists(socket));

                long start = System.nanoTime();
                Map<String, Family> booting = scrape(socket);
                assertThat(Duration.ofNanos(System.nanoTime() - start)).as("a scrape while the agent is held back")
                        .isLessThan(SCRAPE_DEADLINE);
                assertThat(booting).containsKeys("kata_shim_threads", "kata_shim_process_resident_memory_bytes")
                        .doesNotContainKeys("kata_agent_threads", "kata_shim_agent_metrics_age_seconds");
                assertThat(booting.get("kata_shim_sandbox_start_phase_seconds").labelValues("phase")).containsExactly("vm_boot");
                assertThat(run.isAlive()).as("ctr run is still waiting for the sandbox").isTrue();

                assertThat(run.awaitExit(AGENT_DELAY.plus(SANDBOX_DEADLINE))).as(run.toString()).isZero();
                await().atMost(SANDBOX_DEADLINE).until(() -> scrape(socket).containsKey("kata_agent_threads"));
                assertThat(scrape(socket).get("kata_shim_sandbox_start_phase_seconds").labelValues("phase"))
                        .contains("vm_boot", "agent_ready", "container_start");
            }

            List<String> outcomes = scrapeWhile(socket, () -> {
                assertThat(containerd.ctr("task", "kill", "-s", "KILL", id).exitCode()).isZero();
                await().atMost(SANDBOX_DEADLINE).until(() -> containerd.ctr("task", "rm", id).exitCode() == 0);
                assertThat(containerd.ctr("container", "rm", id).exitCode()).isZero();
                await().atMost(SANDBOX_DEADLINE).until(() -> !Files.exists(socket));
            });
            assertThat(outcomes).as("scrapes during the teardown").isNotEmpty()
                    .allMatch(o -> o.equals("200") || o.equals("503") || o.startsWith("no connection"));
            assertThat(outcomes).contains("200");
        }
    }

    private static Map<String, Family> scrape(Path socket) throws IOException, InterruptedException {
        HttpClient.Response r = HttpClient.getBlocking(socket, "/metrics", "text/plain", SCRAPE_DEADLINE);
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        return StrictPrometheusText.parse(r.body());
    }

    /** What scrapes got while {@code teardown} ran: a status, or "no connection ..." when nobody listened or the connection closed; a hang fails the test. */
    private static List<String> scrapeWhile(Path socket, ThrowingRunnable teardown) throws Exception {
        ConcurrentLinkedQueue<String> outcomes = new ConcurrentLinkedQueue<>();
        ConcurrentLinkedQueue<String> hung = new ConcurrentLinkedQueue<>();
        AtomicBoolean done = new AtomicBoolean();
        List<Thread> scrapers = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            scrapers.add(Thread.ofVirtual().start(() -> {
                while (!done.get()) {
                    try {
                        outcomes.add(Integer.toString(HttpClient.get(socket, "/metrics", "text/plain", SCRAPE_DEADLINE)
                                .get().status()));
                    } catch (ExecutionException e) {
                        if (e.getCause() instanceof TimeoutException) {
                            hung.add(e.getCause().toString());
                        } else {
                            outcomes.add("no connection: " + e.getCause());
                        }
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }));
        }
        try {
            teardown.run();
        } finally {
            done.set(true);
            for (Thread t : scrapers) {
                t.join(SCRAPE_DEADLINE.multipliedBy(2));
            }
        }
        assertThat(hung).as("scrapes with no answer within " + SCRAPE_DEADLINE).isEmpty();
        return List.copyOf(outcomes);
    }

    @FunctionalInterface
    private interface ThrowingRunnable {
        void run() throws Exception;
    }
}
