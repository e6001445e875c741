package dev.katashim.it.shim;

import dev.katashim.it.peers.TaskApiClient;
import dev.katashim.it.support.Processes;
import dev.katashim.metrics.server.HttpClient;
import dev.katashim.protocols.containerd.types.task.Status;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static dev.katashim.it.shim.VmPod.VM_DEADLINE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A scrape storm on a VM sandbox (QEMU, TCG here): 100 clients scraping its management socket back
 * to back for 10 s while a Task API client, as containerd would, keeps calling State and Stats (the
 * one answered by the shim, the other by the guest's agent) for a running container. The storm
 * leaves the pod alone: the container's heartbeat goes on, every scrape is answered (200, or 503
 * when the queue is full), and State's and Stats' medians stay within twice those of the windows
 * just before and just after (the slower of the two: a loaded machine drifts). The storm's clients
 * cost little themselves ({@link ScrapeStorm}): what it costs the pod is the shim's doing, and the
 * shim's CPU in the storm is printed.
 */
class ScrapeStormInVmTest {
    private static final int CLIENTS = 100;
    private static final Duration STORM = Duration.ofSeconds(10);
    /** How long one scrape may take in the storm (the shim's queue waits up to 10 s, then says 503). */
    private static final Duration SCRAPE_DEADLINE = Duration.ofSeconds(20);
    /** How long State and Stats are called before they are measured. */
    private static final Duration WARM_UP = Duration.ofSeconds(5);
    /** How much slower an RPC's median may be during the storm than idle: the bound. */
    private static final double MAX_SLOWDOWN = 2.0;

    @Test
    void aHundredClientsScrapingForTenSecondsLeaveThePodRunningAndItsRpcsWithinTwiceTheirIdleLatency(@TempDir Path dir) throws Exception {
        try (VmPod vm = VmPod.start(dir)) {
            String beater = vm.containerd.uniqueId("beat");
            // the rootfs is shared into the guest: the heartbeat written there is readable on the host
            List<String> run = vm.member(beater, List.of("-d"),
                    Heartbeat.COMMAND);
            assertThat(vm.ctr(run.toArray(String[]::new)).exitCode()).isZero();
            Path rootfs = Path.of(vm.rootfs);
            await().atMost(VM_DEADLINE).until(() -> Heartbeat.read(rootfs) > 0);
            Path socket = vm.sandboxDirectory().resolve("shim-monitor.sock");

            try (TaskApiClient task = vm.taskApi()) {
                new RpcTimes().measure(task, beater, WARM_UP);
                ProcessHandle shim = Processes.shimServing(vm.id);
                RpcTimes idle = new RpcTimes();
                Duration cpuBefore = cpu(shim);
                idle.measure(task, beater, STORM);
                Duration cpuIdle = cpu(shim).minus(cpuBefore);

                long beatBefore = Heartbeat.read(rootfs);
                ScrapeStorm storm = ScrapeStorm.start(socket, CLIENTS, STORM, SCRAPE_DEADLINE);
                RpcTimes during = new RpcTimes();
                Duration cpuStormStart = cpu(shim);
                during.measure(task, beater, STORM);
                Map<String, Long> outcomes = storm.outcomes();
                Duration cpuStorm = cpu(shim).minus(cpuStormStart);
                long beatAfter = Heartbeat.read(rootfs);
                RpcTimes after = new RpcTimes();
                after.measure(task, beater, STORM);

                System.out.printf("scrape storm on a VM sandbox: %s; heartbeat %d -> %d; shim CPU %.2f of a core idle, %.2f in the storm%n%s%n",
                        outcomes, beatBefore, beatAfter, cores(cpuIdle), cores(cpuStorm), during.against(idle, after));
                assertThat(outcomes.keySet()).as("every scrape answered 200, or 503 when the queue was full").isSubsetOf("200", "503");
                assertThat(outcomes.getOrDefault("200", 0L)).as("scrapes served").isGreaterThanOrEqualTo(CLIENTS);
                assertThat(beatAfter).as("the container's heartbeat went on during the storm").isGreaterThan(beatBefore);
                during.assertMediansWithin(MAX_SLOWDOWN, idle, after);
                assertThat(task.state(beater).getStatus()).isEqualTo(Status.RUNNING);
            }
            assertThat(HttpClient.getBlocking(socket, "/metrics", "text/plain", SCRAPE_DEADLINE).status()).isEqualTo(200);
            assertThat(vm.exec(beater, "echo alive").stdout()).contains("alive");
        }
    }

    private static Duration cpu(ProcessHandle process) {
        return process.info().totalCpuDuration().orElseThrow(() -> new AssertionError("no CPU time for pid " + process.pid()));
    }

    /** CPU time over one {@link #STORM}-long window, in cores. */
    private static double cores(Duration cpu) {
        return cpu.toNanos() / (double) STORM.toNanos();
    }
}
