package dev.katashim.it.shim;

import dev.katashim.it.support.BusyboxRootfs;
import dev.katashim.it.support.PrivateContainerd;
import dev.katashim.it.support.Processes;
import dev.katashim.metrics.monitor.CriMetadata;
import dev.katashim.metrics.monitor.KataMonitor;
import dev.katashim.metrics.monitor.SandboxRoot;
import dev.katashim.metrics.server.HttpClient;
import dev.katashim.metrics.support.SpecTable;
import dev.katashim.metrics.support.StrictPrometheusText;
import dev.katashim.metrics.support.StrictPrometheusText.Family;
import dev.katashim.metrics.support.StrictPrometheusText.Sample;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * After containers ran through containerd and our shim: what the management socket serves, checked
 * against the metrics reference (its tables read from docs/metrics.md), and what the node-level
 * monitor serves for two sandboxes.
 */
class MetricsEndToEndTest {
    private static PrivateContainerd containerd;
    private static String first;
    private static String second;
    private static SpecTable spec;

    @BeforeAll
    static void runTwoSandboxes(@TempDir Path dir) throws Exception {
        spec = SpecTable.load();
        Path repo = Path.of("").toAbsolutePath().getParent();
        containerd = PrivateContainerd.builder().prependToPath(repo.resolve("bin"))
                .environment("KATA_CONF_FILE", KataConfigs.noVm(dir).toString()).start();
        String rootfs = BusyboxRootfs.create(dir.resolve("rootfs")).path().toString();
        first = containerd.uniqueId("m1");
        second = containerd.uniqueId("m2");
        for (String id : List.of(first, second)) {
            assertThat(containerd.ctr("run", "-d", "--runtime", "io.containerd.kata.v2", "--rootfs", rootfs, id,
                    "/bin/sh", "-c", "echo started; sleep 600").exitCode()).isZero();
        }
        // the agent's part is fetched in the background: there once its first GetMetrics has answered
        for (String id : List.of(first, second)) {
            await().atMost(Duration.ofSeconds(30)).until(() -> scrape(id).containsKey("kata_agent_threads"));
        }
    }

    @AfterAll
    static void stop() {
        if (containerd != null) {
            for (String id : new String[]{first, second}) {
                containerd.ctr("task", "kill", "-s", "KILL", id);
            }
            containerd.close();
        }
    }

    private static Path sandboxRoot() {
        return containerd.directory().resolve("sbs");
    }

    private static Map<String, Family> scrape(String sandbox) throws Exception {
        HttpClient.Response response = HttpClient.getBlocking(sandboxRoot().resolve(sandbox).resolve("shim-monitor.sock"),
                "/metrics", "text/plain", Duration.ofSeconds(10));
        assertThat(response.status()).isEqualTo(200);
        return StrictPrometheusText.parse(response.body());
    }

    @Test
    void theSocketServesEveryMetricOfTheSpecWithoutSandboxId() throws Exception {
        Map<String, Family> families = scrape(first);
        for (SpecTable.Metric metric : spec.metrics.values()) {
            if (metric.name().startsWith("kata_hypervisor_vcpu") || metric.name().startsWith("kata_hypervisor_seccomp")
                    || metric.name().startsWith("kata_hypervisor_signals") || metric.name().startsWith("kata_shim_pod_overhead")
                    || metric.name().equals("kata_hypervisor_netdev")) {
                // counters the no-VM backend cannot supply are absent (checked below); overhead needs a window;
                // the host agent sees the shim's interfaces, which kata_shim_netdev serves already
                continue;
            }
            Family family = families.get(metric.name());
            assertThat(family).as(metric.name()).isNotNull();
            assertThat(family.type()).as(metric.name()).isEqualTo(metric.type());
            for (Sample sample : family.samples()) {
                assertThat(sample.labels()).as(metric.name()).doesNotContainKey("sandbox_id");
            }
            for (Map.Entry<String, Set<String>> label : metric.socketLabels().entrySet()) {
                if (label.getKey().equals("action")) {
                    continue; // an action is served once called: see the RPC histogram tests
                }
                if (!label.getValue().isEmpty()) {
                    assertThat(family.labelValues(label.getKey())).as(metric.name() + " " + label.getKey())
                            .containsAll(label.getValue());
                }
            }
        }
        assertThat(families).doesNotContainKeys("kata_hypervisor_vcpu", "kata_hypervisor_seccomp", "kata_hypervisor_signals",
                "kata_hypervisor_netdev");
        assertThat(families.keySet()).anyMatch(n -> n.startsWith("kata_guest_")).anyMatch(n -> n.startsWith("kata_agent_"));
    }

    @Test
    void rpcHistogramsCountTheCallsThatWereMade() throws Exception {
        Map<String, Family> families = scrape(first);
        String shim = "kata_shim_rpc_durations_histogram_milliseconds";
        assertThat(count(families, shim, "create")).isEqualTo(1);
        assertThat(count(families, shim, "start")).isEqualTo(1);
        String agent = "kata_shim_agent_rpc_durations_histogram_milliseconds";
        assertThat(count(families, agent, "grpc.CreateSandboxRequest")).isEqualTo(1);
        assertThat(count(families, agent, "grpc.CreateContainerRequest")).isEqualTo(1);
        assertThat(count(families, agent, "grpc.StartContainerRequest")).isEqualTo(1);
        assertThat(count(families, agent, "grpc.ReadStreamRequest")).isGreaterThanOrEqualTo(1);
    }

    @Test
    void anRpcNeverCalledHasNoSeries() throws Exception {
        Map<String, Family> families = scrape(first);
        assertThat(families.get("kata_shim_rpc_durations_histogram_milliseconds").labelValues("action"))
                .isNotEmpty().doesNotContain("checkpoint", "pause", "resume", "update", "resize_pty");
        assertThat(families.get("kata_shim_agent_rpc_durations_histogram_milliseconds").labelValues("action"))
                .isNotEmpty().doesNotContain("grpc.PauseContainerRequest", "grpc.ResumeContainerRequest",
                        "grpc.UpdateContainerRequest", "grpc.TtyWinResizeRequest", "grpc.MemHotplugByProbeRequest");
    }

    /** The {@code _count} sample of a histogram for one action. */
    private static double count(Map<String, Family> families, String histogram, String action) {
        return families.get(histogram).samples().stream()
                .filter(s -> s.name().equals(histogram + "_count") && action.equals(s.labels().get("action")))
                .findFirst().orElseThrow(() -> new AssertionError(histogram + " has no count for " + action)).value();
    }

    @Test
    void everyContainerFamilyOfTheReferenceIsServedForTheRunningContainer() throws Exception {
        List<String> documented = Files.readAllLines(spec.file).stream().filter(l -> l.startsWith("| `kata_container_"))
                .map(l -> l.substring(3, l.indexOf('`', 3))).toList();
        assertThat(documented).hasSizeGreaterThan(15);
        // the containers are sampled every 10 s
        Map<String, Family> families = await().atMost(Duration.ofSeconds(40)).until(() -> scrape(first),
                f -> f.containsKey("kata_container_memory_working_set_bytes"));
        for (String name : documented) {
            assertThat(families).as(name).containsKey(name);
            assertThat(families.get(name).labelValues("container_id")).as(name).containsOnly(first);
        }
        assertThat(families.get("kata_container_cpu_usage_seconds_total").value("container_id", first)).isPositive();
        double usage = families.get("kata_container_memory_usage_bytes").value("container_id", first);
        double workingSet = families.get("kata_container_memory_working_set_bytes").value("container_id", first);
        assertThat(workingSet).isPositive().isLessThanOrEqualTo(usage);
        assertThat(families.get("kata_container_pids").value("container_id", first)).isBetween(1.0, 3.0); // sh, sleep
        assertThat(families.get("kata_container_oom_events_total").value("container_id", first)).isZero();
        // the no-VM sandbox's container runs in the host's network namespace: its interfaces, lo among them
        assertThat(families.get("kata_container_network_receive_bytes_total").labelValues("interface")).contains("lo");
    }

    @Test
    void processMetricsAgreeWithProc() throws Exception {
        long shimPid = Processes.shimServing(first).pid();
        Map<String, Family> families = scrape(first);
        String limits = Files.readString(Path.of("/proc/" + shimPid + "/limits"));
        long maxFds = limits.lines().filter(l -> l.startsWith("Max open files")).map(l -> Long.parseLong(l.split("\\s+")[3]))
                .findFirst().orElseThrow();
        assertThat((long) families.get("kata_shim_process_max_fds").value()).isEqualTo(maxFds);
        String stat = Files.readString(Path.of("/proc/" + shimPid + "/stat"));
        long startTicks = Long.parseLong(stat.substring(stat.lastIndexOf(')') + 2).split(" ")[19]);
        long bootTime = Files.readAllLines(Path.of("/proc/stat")).stream().filter(l -> l.startsWith("btime "))
                .map(l -> Long.parseLong(l.split(" ")[1])).findFirst().orElseThrow();
        assertThat(families.get("kata_shim_process_start_time_seconds").value()).isCloseTo(bootTime + startTicks / 100.0,
                org.assertj.core.data.Offset.offset(0.02));
        long fds;
        try (var list = Files.list(Path.of("/proc/" + shimPid + "/fd"))) {
            fds = list.count();
        }
        assertThat(families.get("kata_shim_process_open_fds").value()).isCloseTo(fds, org.assertj.core.data.Offset.offset(3.0));
        long rssPages = Long.parseLong(Files.readString(Path.of("/proc/" + shimPid + "/statm")).split(" ")[1]);
        assertThat(families.get("kata_shim_process_resident_memory_bytes").value())
                .isCloseTo(rssPages * 4096.0, org.assertj.core.data.Percentage.withPercentage(20));
    }

    @Test
    void scrapeCountGrowsByOnePerScrape() throws Exception {
        double before = scrape(second).get("kata_hypervisor_scrape_count").value();
        double after = scrape(second).get("kata_hypervisor_scrape_count").value();
        assertThat(after).isEqualTo(before + 1);
    }

    @Test
    void podOverheadMemoryIsNotNegative() {
        await().atMost(Duration.ofSeconds(40)).untilAsserted(() -> {
            Map<String, Family> families = scrape(first);
            assertThat(families).containsKeys("kata_shim_pod_overhead_memory_in_bytes", "kata_shim_pod_overhead_cpu");
            assertThat(families.get("kata_shim_pod_overhead_memory_in_bytes").value()).isGreaterThanOrEqualTo(0);
        });
    }

    @Test
    void theMonitorServesBothSandboxesUnderOneFamilyEachWithSandboxId() throws Exception {
        try (KataMonitor monitor = KataMonitor.start(new KataMonitor.Options(new InetSocketAddress("127.0.0.1", 0),
                new SandboxRoot(sandboxRoot()), CriMetadata.DEFAULT_CONTAINERD_STATE, Duration.ofSeconds(5)))) {
            java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
            HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + monitor.address().getPort() + "/metrics"))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertThat(response.statusCode()).isEqualTo(200);
            Map<String, Family> families = StrictPrometheusText.parse(response.body());
            Family threads = families.get("kata_shim_threads");
            assertThat(threads.labelValues("sandbox_id")).containsExactlyInAnyOrder(first, second);
            for (Family family : families.values()) {
                if (family.name().startsWith("kata_monitor_")) {
                    continue;
                }
                assertThat(family.samples()).as(family.name()).allSatisfy(s -> assertThat(s.labels()).containsKey("sandbox_id"));
            }
        }
    }
}
