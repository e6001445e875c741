package dev.katashim.agent.guest.metrics;

import dev.katashim.agent.guest.support.AgentFixture;
import dev.katashim.agent.guest.support.PrometheusText;
import dev.katashim.protocols.kata.agent.GetMetricsRequest;
import dev.katashim.protocols.kata.agent.Metrics;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** GetMetrics answers Prometheus text that a strict parser accepts, with the agent and guest families. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class GetMetricsTest {
    private static AgentFixture agent;

    @BeforeAll
    static void startAgent() throws Exception {
        agent = AgentFixture.start();
    }

    @AfterAll
    static void stopAgent() throws Exception {
        if (agent != null) {
            agent.close();
        }
    }

    private Map<String, PrometheusText.Family> scrape() throws InterruptedException {
        Metrics metrics = agent.call("GetMetrics", GetMetricsRequest.getDefaultInstance(), Metrics.parser());
        return PrometheusText.parse(metrics.getMetrics());
    }

    @Test
    void agentFamiliesDescribeTheAgentProcess() throws Exception {
        Map<String, PrometheusText.Family> families = scrape();
        assertThat(families.keySet()).allMatch(name -> name.startsWith("kata_agent_") || name.startsWith("kata_guest_"));
        assertThat(families).containsKeys("kata_agent_threads", "kata_agent_fds", "kata_agent_total_time", "kata_agent_total_vm",
                "kata_agent_total_rss", "kata_agent_scrape_count_total", "kata_agent_process_cpu_seconds_total",
                "kata_agent_process_open_fds", "kata_agent_process_max_fds", "kata_agent_process_resident_memory_bytes",
                "kata_agent_process_start_time_seconds", "kata_agent_process_virtual_memory_bytes",
                "kata_agent_process_virtual_memory_max_bytes");
        assertThat(families.get("kata_agent_threads").samples().getFirst().value()).isGreaterThan(1);
        assertThat(families.get("kata_agent_process_open_fds").samples().getFirst().value()).isGreaterThan(3);
        assertThat(families.get("kata_agent_process_cpu_seconds_total").type()).isEqualTo("counter");
        // This JVM is the agent: its start time is in the past hour.
        double started = families.get("kata_agent_process_start_time_seconds").samples().getFirst().value();
        assertThat(started).isBetween(System.currentTimeMillis() / 1000.0 - 3600, System.currentTimeMillis() / 1000.0 + 1);

        assertThat(families.get("kata_agent_proc_status").labelValues("item")).containsExactlyInAnyOrder(
                "hugetlbpages", "nonvoluntary_ctxt_switches", "rssanon", "rssfile", "rssshmem", "vmdata", "vmexe", "vmhwm",
                "vmlck", "vmlib", "vmpeak", "vmpin", "vmpmd", "vmpte", "vmrss", "vmsize", "vmstk", "vmswap", "voluntary_ctxt_switches");
        assertThat(families.get("kata_agent_io_stat").labelValues("item")).containsExactlyInAnyOrder(
                "cancelledwritebytes", "rchar", "readbytes", "syscr", "syscw", "wchar", "writebytes");
        assertThat(families.get("kata_agent_proc_stat").labelValues("item")).containsExactlyInAnyOrder("cstime", "cutime", "stime", "utime");
        assertThat(families.get("kata_agent_proc_status").value("item", "vmrss")).isPositive();

        double before = scrape().get("kata_agent_scrape_count_total").samples().getFirst().value();
        double after = scrape().get("kata_agent_scrape_count_total").samples().getFirst().value();
        assertThat(after).isEqualTo(before + 1);
    }

    @Test
    void guestFamiliesDescribeTheMachine() throws Exception {
        Map<String, PrometheusText.Family> families = scrape();
        assertThat(families).containsKeys("kata_guest_load", "kata_guest_tasks", "kata_guest_cpu_time", "kata_guest_vm_stat",
                "kata_guest_netdev_stat", "kata_guest_diskstat", "kata_guest_meminfo");
        assertThat(families.get("kata_guest_load").labelValues("item")).containsExactlyInAnyOrder("load1", "load5", "load15");
        assertThat(families.get("kata_guest_tasks").value("item", "max")).isPositive();
        long memTotalKb = Files.readAllLines(Path.of("/proc/meminfo")).stream().filter(l -> l.startsWith("MemTotal:"))
                .map(l -> Long.parseLong(l.replaceAll("[^0-9]", ""))).findFirst().orElseThrow();
        assertThat(families.get("kata_guest_meminfo").value("item", "mem_total")).isEqualTo(memTotalKb * 1024.0);
        // upstream agent's items, less the keys this kernel does not print (a 64-bit kernel has no HighTotal): absent, not 0
        assertThat(Files.readString(Path.of("/proc/meminfo"))).doesNotContain("HighTotal:");
        assertThat(families.get("kata_guest_meminfo").labelValues("item")).hasSizeBetween(40, 58)
                .contains("mem_total", "mem_available", "cached", "hugepages_total").doesNotContain("high_total", "low_total");
        PrometheusText.Family cpu = families.get("kata_guest_cpu_time");
        assertThat(cpu.labelValues("cpu")).contains("total", "0");
        assertThat(cpu.samples().stream().filter(s -> s.labels().get("cpu").equals("total")).map(s -> s.labels().get("item")).toList())
                .containsExactlyInAnyOrder("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal", "guest", "guest_nice");
        assertThat(families.get("kata_guest_netdev_stat").samples())
                .anySatisfy(s -> assertThat(s.labels()).containsEntry("interface", "lo").containsEntry("item", "recv_bytes"));
        // node_exporter's default vmstat fields: paging, swapping, faults, OOM kills; not the other ~160 lines
        assertThat(families.get("kata_guest_vm_stat").labelValues("item"))
                .contains("pgfault", "pgmajfault", "pgpgin", "pgpgout", "pswpin", "pswpout", "oom_kill")
                .doesNotContain("nr_free_pages", "numa_hit", "thp_fault_alloc").hasSizeLessThan(15);
    }

    @Test
    void diskstatsServeWholeDisksNotPartitionsLoopOrRamDevices() throws Exception {
        java.util.Set<String> expected = new java.util.TreeSet<>();
        for (String line : Files.readAllLines(Path.of("/proc/diskstats"))) {
            String disk = line.trim().split("\\s+")[2];
            boolean partition = Files.exists(Path.of("/sys/class/block", disk, "partition"));
            if (!partition && !disk.matches("(loop|z?ram|fd)\\d+")) {
                expected.add(disk);
            }
        }
        PrometheusText.Family disks = scrape().get("kata_guest_diskstat");
        java.util.Set<String> served = disks == null ? java.util.Set.of() : new java.util.TreeSet<>(disks.labelValues("disk"));
        assertThat(served).isEqualTo(expected);
    }

    @Test
    void theParserIsStrict() {
        // The parser must fail on what a scraper would reject, or the tests above prove nothing.
        assertThatThrownBy(() -> PrometheusText.parse("x 1\n")).hasMessageContaining("no TYPE");
        assertThatThrownBy(() -> PrometheusText.parse("# TYPE x gauge\nx{a=\"1\"} 1\nx{a=\"1\"} 2\n")).hasMessageContaining("duplicate");
        assertThatThrownBy(() -> PrometheusText.parse("# TYPE x gauge\nx{a=1} 1\n")).hasMessageContaining("not quoted");
        assertThatThrownBy(() -> PrometheusText.parse("# TYPE x gauge\nx one\n")).hasMessageContaining("not a number");
        assertThatThrownBy(() -> PrometheusText.parse("# TYPE x gauge\n# TYPE y gauge\ny 1\nx 1\n")).hasMessageContaining("outside");
        assertThat(PrometheusText.parse("# HELP x h\n# TYPE x gauge\nx{a=\"q\\\"\"} 1.5e3\n").get("x").samples())
                .containsExactly(new PrometheusText.Sample("x", Map.of("a", "q\""), 1500));
    }
}
