package dev.katashim.it.shim;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.katashim.it.support.BusyboxRootfs;
import dev.katashim.it.support.CommandResult;
import dev.katashim.it.support.PrivateContainerd;
import dev.katashim.metrics.server.HttpClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * What an operator's Prometheus makes of our metrics: Debian's {@code prometheus} (scripts/setup
 * installs it) on loopback, scraping {@code bin/kata-shim-monitor}, which watches the sandboxes of a
 * real containerd; one pod of two containers with CRI's annotations (no-VM sandbox). Through
 * Prometheus' HTTP API: the series arrive with the pod's labels, the operator's questions have
 * answers (overhead memory per pod, agent RPC p99 by action, containers' working set per pod),
 * Prometheus stores exactly the series the socket serves, and every panel of the dashboard in
 * {@code config/grafana/kata-dashboard.json} has data.
 */
class PrometheusEndToEndTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** How long the series may take to arrive and to have rates (overhead window 10 s, scrapes every 2 s), both cores busy. */
    private static final Duration ARRIVAL_DEADLINE = Duration.ofSeconds(180);
    private static final Path PROMETHEUS = Path.of("/usr/bin/prometheus");
    /**
     * {@code -Dkata.it.prometheus.vm=true}: the pod in a QEMU VM (this checkout's guest image, build/guest)
     * instead of the no-VM sandbox, and its series held to the budget. Off by default: a TCG boot
     * costs a minute of both cores.
     */
    private static final boolean IN_VM = Boolean.getBoolean("kata.it.prometheus.vm");
    /** What one pod of two idle containers may cost a Prometheus (docs/metrics.md, Series budget). */
    private static final double SERIES_BUDGET = 500;

    @Test
    void prometheusScrapingTheMonitorAnswersTheOperatorsQuestionsAndTheDashboardsPanels(@TempDir Path dir) throws Exception {
        assertThat(PROMETHEUS).as("Debian's prometheus: run scripts/setup").isExecutable();
        Path repo = Path.of("").toAbsolutePath().getParent();
        List<Process> started = new ArrayList<>();
        Path kataConfig = IN_VM ? KataConfigs.qemu(dir, repo, "", 180) : KataConfigs.noVm(dir);
        try (PrivateContainerd containerd = PrivateContainerd.builder().prependToPath(repo.resolve("bin"))
                .commandTimeout(Duration.ofMinutes(4)).environment("KATA_CONF_FILE", kataConfig.toString()).start()) {
            String rootfs = BusyboxRootfs.create(dir.resolve("rootfs")).path().toString();
            String pod = containerd.uniqueId("web");
            String app = containerd.uniqueId("app");
            run(containerd, rootfs, pod, pod, "sandbox");
            run(containerd, rootfs, app, pod, "container");

            int monitorPort = freePort();
            started.add(start(dir.resolve("monitor.log"), repo.resolve("bin/kata-shim-monitor").toString(),
                    "--listen-address", "127.0.0.1:" + monitorPort, "--sandbox-root", containerd.directory().resolve("sbs").toString(),
                    "--containerd-state", containerd.state().toString(), "--timeout", "1500ms"));
            int prometheusPort = freePort();
            Path rules = repo.resolve("config/prometheus/kata-recording-rules.yml");
            assertThat(Files.readString(repo.resolve("docs/metrics.md"))).as("docs/metrics.md shows the rules file")
                    .contains(Files.readString(rules).lines().filter(l -> l.contains("expr:")).map(String::strip).toList());
            Path config = Files.writeString(dir.resolve("prometheus.yml"), """
                    global:
                      scrape_interval: 2s
                      scrape_timeout: 2s
                      evaluation_interval: 2s
                    rule_files: ["%s"]
                    scrape_configs:
                      - job_name: kata
                        static_configs:
                          - targets: ["127.0.0.1:%d"]
                    """.formatted(rules, monitorPort));
            started.add(start(dir.resolve("prometheus.log"), PROMETHEUS.toString(), "--config.file=" + config,
                    "--storage.tsdb.path=" + dir.resolve("tsdb"), "--web.listen-address=127.0.0.1:" + prometheusPort));
            Prometheus prometheus = new Prometheus(prometheusPort);

            JsonNode threads = await().atMost(ARRIVAL_DEADLINE).ignoreExceptions()
                    .until(() -> prometheus.query("kata_shim_threads{sandbox_id=\"" + pod + "\"}"), r -> r.size() == 1);
            JsonNode labels = threads.get(0).path("metric");
            assertThat(labels.path("cri_name").asText()).isEqualTo("web-0");
            assertThat(labels.path("cri_namespace").asText()).isEqualTo("shop");
            assertThat(labels.path("cri_uid").asText()).isEqualTo("uid-" + pod);
            assertThat(labels.path("job").asText()).isEqualTo("kata");

            // the idle pod, both containers sampled: what Prometheus stores for it is what its socket serves
            await().atMost(ARRIVAL_DEADLINE).ignoreExceptions().until(() -> prometheus.query(
                    "kata_container_memory_working_set_bytes{sandbox_id=\"" + pod + "\"}"), r -> r.size() == 2);
            Path socket = containerd.directory().resolve("sbs").resolve(pod).resolve("shim-monitor.sock");
            long served = HttpClient.getBlocking(socket, "/metrics", "text/plain", Duration.ofSeconds(10)).body().lines()
                    .filter(l -> l.startsWith("kata_")).count();
            double stored = prometheus.query("count({__name__=~\"kata_.+\", sandbox_id=\"" + pod + "\"})").get(0).path("value").get(1).asDouble();
            System.out.printf("Prometheus stores %.0f kata_* series for the idle pod (its socket serves %d)%n", stored, served);
            assertThat(stored).isBetween(served - 20.0, served + 20.0); // a series may come or go between the two reads
            if (IN_VM) {
                assertThat(stored).as("series of one VM pod (the budget of docs/metrics.md)").isLessThanOrEqualTo(SERIES_BUDGET);
            }

            // Task RPCs while Prometheus watches, for the latency panels' rates
            for (int i = 0; i < 3; i++) {
                CommandResult exec = containerd.ctr("task", "exec", "--exec-id", containerd.uniqueId("e"), app, "/bin/true");
                assertThat(exec.exitCode()).as(exec.toString()).isZero();
            }

            JsonNode overhead = await().atMost(ARRIVAL_DEADLINE).ignoreExceptions().until(() -> prometheus.query(
                    "sum by (cri_name) (kata_shim_pod_overhead_memory_in_bytes)"), r -> r.size() == 1);
            assertThat(overhead.get(0).path("metric").path("cri_name").asText()).isEqualTo("web-0");
            JsonNode agentP99 = await().atMost(ARRIVAL_DEADLINE).ignoreExceptions().until(() -> prometheus.query(
                    "histogram_quantile(0.99, sum by (action, le) (rate(kata_shim_agent_rpc_durations_histogram_milliseconds_bucket[1m])))"),
                    r -> finiteValues(r) > 0);
            assertThat(actions(agentP99)).contains("grpc.GetMetricsRequest");
            JsonNode workingSet = await().atMost(ARRIVAL_DEADLINE).ignoreExceptions().until(() -> prometheus.query(
                    "sum by (cri_name) (kata_container_memory_working_set_bytes)"), r -> r.size() == 1);
            assertThat(workingSet.get(0).path("metric").path("cri_name").asText()).isEqualTo("web-0");
            assertThat(workingSet.get(0).path("value").get(1).asDouble()).isPositive();
            // the recording rule: the pod's container under cAdvisor's name and labels, the pause container not
            JsonNode recorded = await().atMost(ARRIVAL_DEADLINE).ignoreExceptions().until(() -> prometheus.query(
                    "container_memory_working_set_bytes{sandbox_id=\"" + pod + "\"}"), r -> r.size() == 1);
            assertThat(recorded.get(0).path("metric").path("container").asText()).isEqualTo("app");
            assertThat(recorded.get(0).path("metric").path("pod").asText()).isEqualTo("web-0");
            assertThat(recorded.get(0).path("metric").path("namespace").asText()).isEqualTo("shop");
            assertThat(recorded.get(0).path("metric").path("container_id").asText()).isEqualTo(app);

            JsonNode dashboard = JSON.readTree(repo.resolve("config/grafana/kata-dashboard.json").toFile());
            for (JsonNode panel : dashboard.path("panels")) {
                for (JsonNode target : panel.path("targets")) {
                    String expr = target.path("expr").asText();
                    JsonNode result = await().atMost(ARRIVAL_DEADLINE).ignoreExceptions()
                            .until(() -> prometheus.query(expr), r -> finiteValues(r) > 0);
                    assertThat(result).as("panel '%s': %s", panel.path("title").asText(), expr).isNotEmpty();
                }
            }
        } finally {
            for (Process p : started.reversed()) {
                stop(p);
            }
        }
    }

    /** A container as CRI starts it: its bundle's annotations are those containerd's CRI plugin writes (a sandbox has no container name). */
    private static void run(PrivateContainerd containerd, String rootfs, String id, String pod, String type) {
        List<String> args = new ArrayList<>(List.of("run", "-d", "--runtime", "io.containerd.kata.v2",
                "--annotation", "io.kubernetes.cri.container-type=" + type,
                "--annotation", "io.kubernetes.cri.sandbox-id=" + pod,
                "--annotation", "io.kubernetes.cri.sandbox-name=web-0",
                "--annotation", "io.kubernetes.cri.sandbox-namespace=shop",
                "--annotation", "io.kubernetes.cri.sandbox-uid=uid-" + pod));
        if (type.equals("container")) {
            args.addAll(List.of("--annotation", "io.kubernetes.cri.container-name=app"));
        }
        args.addAll(List.of("--rootfs", rootfs, id, "/bin/sleep", "600"));
        CommandResult run = containerd.ctr(args.toArray(String[]::new));
        assertThat(run.exitCode()).as(run.toString()).isZero();
    }

    private static int finiteValues(JsonNode result) {
        int n = 0;
        for (JsonNode r : result) {
            double v = r.path("value").get(1).asDouble(Double.NaN);
            if (!Double.isNaN(v) && !Double.isInfinite(v)) {
                n++;
            }
        }
        return n;
    }

    private static List<String> actions(JsonNode result) {
        List<String> actions = new ArrayList<>();
        result.forEach(r -> actions.add(r.path("metric").path("action").asText()));
        return actions;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static Process start(Path log, String... command) throws IOException {
        return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    private static void stop(Process p) throws InterruptedException {
        p.destroy();
        if (!p.waitFor(10, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor();
        }
    }

    /** Prometheus' instant-query API. */
    private record Prometheus(int port) {
        JsonNode query(String promql) throws IOException, InterruptedException {
            URI uri = URI.create("http://127.0.0.1:" + port + "/api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8));
            try (java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient()) {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).build(),
                        HttpResponse.BodyHandlers.ofString());
                JsonNode answer = JSON.readTree(r.body());
                if (r.statusCode() != 200 || !answer.path("status").asText().equals("success")) {
                    throw new IOException(promql + ": " + r.statusCode() + " " + r.body());
                }
                return answer.path("data").path("result");
            }
        }
    }
}
