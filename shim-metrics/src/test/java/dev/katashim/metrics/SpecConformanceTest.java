package dev.katashim.metrics;

import dev.katashim.vmm.FatalSignals;
import dev.katashim.vmm.HypervisorMetrics;
import dev.katashim.vmm.VcpuCounter;
import dev.katashim.vmm.VcpuItem;
import dev.katashim.metrics.overhead.PodOverhead;
import dev.katashim.metrics.server.HttpClient;
import dev.katashim.metrics.support.SpecTable;
import dev.katashim.metrics.support.StrictPrometheusText;
import dev.katashim.metrics.support.StrictPrometheusText.Family;
import dev.katashim.metrics.support.TestSandbox;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A sandbox assembled as the shim will assemble it: a real process as its hypervisor (a sleeping
 * child) whose real usage is the host side of the pod overhead, a real guest agent for the agent's
 * part. Its socket's /metrics must hold every name, type, label and item the metrics reference
 * (docs/metrics.md) requires, the expected table being read from that file. The one stand-in is the hypervisor's own counter
 * source (vCPU exits, seccomp faults, signals): no backend of this module counts those, and a
 * fake here shows how a backend that does is served.
 */
class SpecConformanceTest {
    /** FAKE: a hypervisor backend that counts vCPU exits, seccomp faults and signals (QEMU under TCG counts none of the vCPU items). */
    static final HypervisorMetrics COUNTING_HYPERVISOR_FAKE = new HypervisorMetrics() {
        @Override
        public long pid() {
            return 0;
        }

        @Override
        public List<VcpuCounter> vcpu() {
            return List.of(new VcpuCounter(0, VcpuItem.EXIT_IO_IN, 11),
                    new VcpuCounter(0, VcpuItem.EXIT_IO_OUT, 12),
                    new VcpuCounter(0, VcpuItem.EXIT_MMIO_READ, 13),
                    new VcpuCounter(0, VcpuItem.EXIT_MMIO_WRITE, 14),
                    new VcpuCounter(0, VcpuItem.FAILURES, 0),
                    new VcpuCounter(0, VcpuItem.FILTER_CPUID, 16),
                    new VcpuCounter(1, VcpuItem.EXIT_IO_IN, 21));
        }

        @Override
        public FatalSignals fatalSignals() {
            return new FatalSignals(1, 2, 0);
        }
    };

    /**
     * The actions this sandbox has called by the time of a scrape: the shim's create (observed in
     * start()), the agent client's health check when it connected and the scrapes' GetMetrics.
     */
    private static final Map<String, Set<String>> CALLED = Map.of(
            ShimMetrics.SHIM_RPC, Set.of("create"),
            ShimMetrics.AGENT_RPC, Set.of("grpc.CheckRequest", "grpc.GetMetricsRequest"));

    private static Path root;
    private static Process hypervisor;
    private static PodOverhead overhead;
    private static TestSandbox sandbox;
    private static SpecTable spec;

    @BeforeAll
    static void start() throws Exception {
        spec = SpecTable.load();
        root = Files.createTempDirectory(Path.of("/tmp"), "ksm-spec");
        // in a network namespace of its own, as QEMU is in a pod's: so it has a netdev family of its own
        hypervisor = new ProcessBuilder("unshare", "--net", "sleep", "120").start();
        overhead = PodOverhead.start(new PodOverhead.Inputs() {
            @Override
            public dev.katashim.metrics.overhead.Usage host() throws Exception {
                return usageOf(hypervisor);
            }

            @Override
            public Map<String, dev.katashim.metrics.overhead.Usage> containers() {
                return Map.of();
            }
        }, Duration.ofMillis(100));
        sandbox = TestSandbox.in(root, "sb-spec").realAgent().hypervisorPid(hypervisor::pid)
                .hypervisor(COUNTING_HYPERVISOR_FAKE).podOverhead(overhead).start();
        sandbox.shim.observeShimRpc("create", 3_000_000);
        await().atMost(Duration.ofSeconds(10)).until(() -> overhead.latest().isPresent());
        // the parts fetched in the background: the agent's text, its GetMetrics timed, the vCPU counters
        sandbox.scrapeWhen(f -> f.containsKey("kata_agent_threads") && f.containsKey("kata_hypervisor_vcpu")
                && f.containsKey(ShimMetrics.AGENT_RPC) && f.get(ShimMetrics.AGENT_RPC).labelValues("action").contains("grpc.GetMetricsRequest"),
                TestSandbox.AGENT_DEADLINE);
    }

    /**
     * The "hypervisor"'s usage as the JDK and /proc/<pid>/statm report it. The shim reads its
     * sandbox's host cgroup instead; those cgroups belong to shim-core's resource package, whose
     * HostCgroupTest measures them for real.
     */
    private static dev.katashim.metrics.overhead.Usage usageOf(Process process) throws java.io.IOException {
        long cpuNanos = process.info().totalCpuDuration().map(Duration::toNanos).orElse(0L);
        long residentPages = Long.parseLong(Files.readString(Path.of("/proc/" + process.pid() + "/statm")).trim().split(" ")[1]);
        return new dev.katashim.metrics.overhead.Usage(cpuNanos, residentPages * 4096);
    }

    @AfterAll
    static void stop() throws Exception {
        if (sandbox != null) {
            sandbox.close();
        }
        if (overhead != null) {
            overhead.close();
        }
        if (hypervisor != null) {
            hypervisor.destroyForcibly().waitFor();
        }
        TestSandbox.deleteTree(root);
    }

    @Test
    void everyMetricOfTheSpecIsServedWithItsTypeLabelsAndItems() throws Exception {
        Map<String, Family> served = sandbox.scrape();
        for (SpecTable.Metric m : spec.metrics.values()) {
            Family family = served.get(m.name());
            assertThat(family).as("%s is served", m.name()).isNotNull();
            assertThat(family.type()).as("type of %s", m.name()).isEqualTo(m.type());
            assertThat(family.samples()).as("%s has samples", m.name()).isNotEmpty();
            if (m.help() != null) {
                assertThat(family.help()).as("help of %s", m.name()).isEqualTo(m.help().replace("`", ""));
            }
            for (StrictPrometheusText.Sample s : family.samples()) {
                Set<String> names = new TreeSet<>(s.labels().keySet());
                names.remove("le");
                assertThat(names).as("labels of %s", s).isEqualTo(new TreeSet<>(m.socketLabels().keySet()));
            }
            m.socketLabels().forEach((label, items) -> {
                if (items.isEmpty()) {
                    return;
                }
                Set<String> values = new HashSet<>(family.labelValues(label));
                if (label.equals("action")) {
                    // an action's series appears on its first call: exactly the actions this sandbox called
                    assertThat(values).as("actions of %s", m.name()).isSubsetOf(items)
                            .containsExactlyInAnyOrderElementsOf(CALLED.get(m.name()));
                } else {
                    assertThat(values).as("items of %s", m.name()).containsExactlyInAnyOrderElementsOf(items);
                }
            });
            if (!m.unit().isEmpty()) {
                assertThat(m.name().endsWith("_" + m.unit()) || m.name().endsWith("_" + m.unit() + "_total")
                        || family.help().contains(m.unit())).as("unit %s of %s", m.unit(), m.name()).isTrue();
            }
        }
    }

    @Test
    void theSocketServesNoSandboxIdThatIsTheMonitorsJob() throws Exception {
        Map<String, Family> served = sandbox.scrape();
        assertThat(served.values()).allSatisfy(f -> assertThat(f.samples())
                .allSatisfy(s -> assertThat(s.labels()).doesNotContainKey("sandbox_id")));
    }

    @Test
    void histogramsHaveTheSpecsBucketsForEveryAction() throws Exception {
        Map<String, Family> served = sandbox.scrape();
        List<String> expected = new java.util.ArrayList<>(spec.histogramBuckets.stream()
                .map(b -> Long.toString(b.longValue())).toList());
        expected.add("+Inf");
        for (String name : List.of(ShimMetrics.SHIM_RPC, ShimMetrics.AGENT_RPC)) {
            Family h = served.get(name);
            for (String action : new TreeSet<>(h.labelValues("action"))) {
                List<String> bounds = h.samples().stream()
                        .filter(s -> s.name().endsWith("_bucket") && action.equals(s.labels().get("action")))
                        .map(s -> s.labels().get("le")).toList();
                assertThat(bounds).as("%s %s", name, action).containsExactlyElementsOf(expected);
            }
        }
        Family shim = served.get(ShimMetrics.SHIM_RPC);
        assertThat(shim.value("action", "create", "le", "2")).isZero();
        assertThat(shim.value("action", "create", "le", "4")).isEqualTo(1);
        assertThat(shim.samples()).anySatisfy(s -> {
            assertThat(s.name()).isEqualTo(ShimMetrics.SHIM_RPC + "_sum");
            assertThat(s.labels()).containsEntry("action", "create");
            assertThat(s.value()).isEqualTo(3.0);
        });
    }

    @Test
    void anActionNeverCalledHasNoSeriesAndItsFirstCallMakesThem() throws Exception {
        try (TestSandbox idle = TestSandbox.in(root, "sb-idle").start()) {
            assertThat(idle.scrape()).as("no Task RPC called yet: the family is not written").doesNotContainKey(ShimMetrics.SHIM_RPC);
            idle.shim.observeShimRpc("delete", 1_500_000);
            Family rpc = idle.scrape().get(ShimMetrics.SHIM_RPC);
            assertThat(new TreeSet<>(rpc.labelValues("action"))).containsExactly("delete");
            assertThat(rpc.value("action", "delete", "le", "+Inf")).isEqualTo(1);
            assertThat(rpc.samples()).hasSize(13); // 11 buckets, _sum, _count
        }
    }

    @Test
    void aHypervisorInTheShimsNetworkNamespaceServesNoNetdevOfItsOwn() throws Exception {
        Process beside = new ProcessBuilder("sleep", "60").start();
        try (TestSandbox shared = TestSandbox.in(root, "sb-shared-net").hypervisorPid(beside::pid).start()) {
            Map<String, Family> served = shared.scrape();
            // the same interfaces as the shim's, series for series: kata_shim_netdev has them
            assertThat(served).containsKeys("kata_hypervisor_threads", "kata_hypervisor_proc_status", "kata_shim_netdev")
                    .doesNotContainKey("kata_hypervisor_netdev");
        } finally {
            beside.destroyForcibly().waitFor();
        }
    }

    @Test
    void theAgentsFamiliesAreMergedInAndItsCallsTimedButNoScrapeCallsIt() throws Exception {
        long start = System.nanoTime();
        double before = sandbox.scrape().get(ShimMetrics.AGENT_RPC).value("action", "grpc.GetMetricsRequest", "le", "+Inf");
        Map<String, Family> served = null;
        for (int i = 0; i < 20; i++) {
            served = sandbox.scrape();
        }
        assertThat(served).containsKeys("kata_agent_threads", "kata_agent_process_cpu_seconds_total", "kata_guest_meminfo",
                "kata_guest_load", SandboxMetrics.AGENT_AGE);
        assertThat(served.keySet()).filteredOn(n -> n.startsWith("kata_agent_") || n.startsWith("kata_guest_")).hasSizeGreaterThan(15);
        // GetMetrics runs on its own schedule (here every 5 s), whatever the number of scrapes, and is timed
        double periods = (System.nanoTime() - start) / (double) sandbox.metrics.refresh().period().toNanos();
        assertThat(served.get(ShimMetrics.AGENT_RPC).value("action", "grpc.GetMetricsRequest", "le", "+Inf") - before)
                .as("GetMetrics calls during 21 scrapes over %.2f refresh periods", periods).isLessThanOrEqualTo(Math.ceil(periods) + 1);
        assertThat(served.get(ShimMetrics.AGENT_RPC).value("action", "grpc.CheckRequest", "le", "+Inf")).isGreaterThanOrEqualTo(1);
        assertThat(served.get(SandboxMetrics.AGENT_AGE).value()).isNotNegative();
        assertThat(served.get(SandboxMetrics.AGENT_DROPPED).value()).isZero();
        assertThat(served.get(SandboxMetrics.AGENT_ERRORS).value("reason", "failed")).isZero();
    }

    @Test
    void openMetricsCarriesTheSameFamiliesWithUnitsAndTotalSuffixedCounters() throws Exception {
        HttpClient.Response r = sandbox.get("/metrics", "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.contentType()).startsWith("application/openmetrics-text; version=1.0.0");
        Map<String, Family> om = StrictPrometheusText.parseOpenMetrics(r.body());
        assertThat(om.get("kata_hypervisor_scrape_count").type()).isEqualTo("counter");
        assertThat(om.get("kata_hypervisor_scrape_count").samples().getFirst().name()).isEqualTo("kata_hypervisor_scrape_count_total");
        assertThat(om.get("kata_shim_process_cpu_seconds").samples().getFirst().name()).isEqualTo("kata_shim_process_cpu_seconds_total");
        assertThat(om.get("kata_shim_process_cpu_seconds").unit()).isEqualTo("seconds");
        assertThat(om.get(ShimMetrics.SHIM_RPC).unit()).isEqualTo("milliseconds");
        assertThat(om.get("kata_shim_pod_overhead_memory_in_bytes").unit()).isEqualTo("bytes");
        for (SpecTable.Metric m : spec.metrics.values()) {
            String omName = m.type().equals("counter") ? m.name().replaceAll("_total$", "") : m.name();
            assertThat(om).as(omName).containsKey(omName);
        }
    }

    @Test
    void scrapeCountGrowsByOnePerScrape() throws Exception {
        double first = sandbox.scrape().get(SandboxMetrics.SCRAPE_COUNT).value();
        double second = sandbox.scrape().get(SandboxMetrics.SCRAPE_COUNT).value();
        double third = sandbox.scrape().get(SandboxMetrics.SCRAPE_COUNT).value();
        assertThat(second).isEqualTo(first + 1);
        assertThat(third).isEqualTo(second + 1);
    }

    @Test
    void hypervisorSeriesAreTheBackendsNumbers() throws Exception {
        Map<String, Family> served = sandbox.scrape();
        assertThat(served.get("kata_hypervisor_vcpu").value("cpu_id", "0", "item", "exit_io_in")).isEqualTo(11);
        assertThat(served.get("kata_hypervisor_vcpu").value("cpu_id", "1", "item", "exit_io_in")).isEqualTo(21);
        // cpu 1's other counters were not supplied: absent, not zero
        assertThat(served.get("kata_hypervisor_vcpu").samples()).noneMatch(s -> "1".equals(s.labels().get("cpu_id"))
                && "exit_io_out".equals(s.labels().get("item")));
        assertThat(served.get("kata_hypervisor_signals").value("item", "sigsegv")).isEqualTo(2);
        assertThat(served.get("kata_hypervisor_threads").value()).isEqualTo(1); // sleep(1) has one thread
        assertThat(served.get("kata_hypervisor_netdev").labelValues("interface")).containsOnly("lo"); // its namespace's only one
        assertThat(served.get("kata_shim_pod_overhead_memory_in_bytes").value()).isGreaterThanOrEqualTo(0);
        assertThat(served.get("kata_shim_pod_overhead_cpu").value()).isGreaterThanOrEqualTo(0);
    }
}
