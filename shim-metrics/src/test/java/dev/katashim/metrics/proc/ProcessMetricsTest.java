package dev.katashim.metrics.proc;

import dev.katashim.metrics.expo.MetricFamily;
import dev.katashim.metrics.expo.Sample;
import dev.katashim.sys.KeyValues;
import dev.katashim.sys.NetDevLine;
import dev.katashim.sys.ProcFs;
import dev.katashim.sys.ProcessSnapshot;
import dev.katashim.sys.SystemConstants;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** The process families against what /proc itself says, for this JVM and for a child process. */
class ProcessMetricsTest {

    private static Map<String, MetricFamily> byName(List<MetricFamily> families) {
        Map<String, MetricFamily> map = new HashMap<>();
        families.forEach(f -> map.put(f.name(), f));
        return map;
    }

    private static double value(MetricFamily f) {
        assertThat(f.samples()).as(f.name()).hasSize(1);
        return f.samples().getFirst().value();
    }

    private static double item(MetricFamily f, String item) {
        return f.samples().stream().filter(s -> item.equals(s.label("item"))).findFirst()
                .orElseThrow(() -> new AssertionError(f.name() + " has no item " + item)).value();
    }

    private static String[] statFields(String pid) throws Exception {
        String stat = Files.readString(Path.of("/proc", pid, "stat"));
        return stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    }

    private static long btime() throws Exception {
        return Files.readAllLines(Path.of("/proc/stat")).stream().filter(l -> l.startsWith("btime "))
                .mapToLong(l -> Long.parseLong(l.substring(6).trim())).findFirst().orElseThrow();
    }

    @Test
    void processCollectorAgreesWithProcSelf() throws Exception {
        String[] before = statFields("self");
        ProcessSnapshot snapshot = ProcFs.HOST.read("self");
        String[] after = statFields("self");
        Map<String, MetricFamily> f = byName(ProcessFamilies.processCollector("kata_shim", snapshot, ProcFs.HOST.bootTime()));

        double ticks = SystemConstants.CLOCK_TICKS_PER_SECOND;
        assertThat(ticks).isEqualTo(100); // USER_HZ on Linux
        double cpuBefore = (Long.parseLong(before[11]) + Long.parseLong(before[12])) / ticks;
        double cpuAfter = (Long.parseLong(after[11]) + Long.parseLong(after[12])) / ticks;
        assertThat(value(f.get("kata_shim_process_cpu_seconds_total"))).isBetween(cpuBefore, cpuAfter);
        assertThat(value(f.get("kata_shim_process_start_time_seconds"))).isEqualTo(btime() + Long.parseLong(before[19]) / ticks);

        String limits = Files.readString(Path.of("/proc/self/limits"));
        String maxFiles = limits.lines().filter(l -> l.startsWith("Max open files")).findFirst().orElseThrow()
                .substring("Max open files".length()).trim().split("\\s+")[0];
        assertThat(value(f.get("kata_shim_process_max_fds"))).isEqualTo(Double.parseDouble(maxFiles));
        String maxAs = limits.lines().filter(l -> l.startsWith("Max address space")).findFirst().orElseThrow()
                .substring("Max address space".length()).trim().split("\\s+")[0];
        assertThat(value(f.get("kata_shim_process_virtual_memory_max_bytes")))
                .isEqualTo(maxAs.equals("unlimited") ? 18446744073709551615.0 : Double.parseDouble(maxAs));

        long pageSize = Long.parseLong(new String(new ProcessBuilder("getconf", "PAGESIZE").start().getInputStream().readAllBytes()).trim());
        assertThat(SystemConstants.PAGE_SIZE).isEqualTo(pageSize);
        // sizes move as the JVM runs: the value lies within what /proc said just before and just after
        long vsizeBefore = Long.parseLong(before[20]);
        long vsizeAfter = Long.parseLong(after[20]);
        assertThat(value(f.get("kata_shim_process_virtual_memory_bytes")))
                .isBetween((double) Math.min(vsizeBefore, vsizeAfter), (double) Math.max(vsizeBefore, vsizeAfter));
        double rssBefore = Long.parseLong(before[21]) * pageSize;
        double rssAfter = Long.parseLong(after[21]) * pageSize;
        assertThat(value(f.get("kata_shim_process_resident_memory_bytes"))).isBetween(Math.min(rssBefore, rssAfter) - 1e6, Math.max(rssBefore, rssAfter) + 1e6);
        try (var fds = Files.list(Path.of("/proc/self/fd"))) {
            assertThat(value(f.get("kata_shim_process_open_fds"))).isCloseTo(fds.count(), within(3.0));
        }
    }

    @Test
    void processFamiliesOfAChildAreItsOwnProc() throws Exception {
        Process child = new ProcessBuilder("sleep", "30").start();
        try {
            String pid = Long.toString(child.pid());
            // until it has become sleep (before, it is the JVM's spawn helper, and changing)
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(5))
                    .until(() -> Files.readString(Path.of("/proc", pid, "comm")).strip().equals("sleep"));
            Map<String, MetricFamily> f = byName(ProcessFamilies.of("kata_hypervisor", ProcessFamilies.Help.HYPERVISOR, ProcFs.HOST.read(pid)));
            String[] stat = statFields(pid);
            assertThat(value(f.get("kata_hypervisor_threads"))).isEqualTo(Double.parseDouble(stat[17]));
            assertThat(item(f.get("kata_hypervisor_proc_stat"), "utime")).isEqualTo(Double.parseDouble(stat[11]));
            assertThat(item(f.get("kata_hypervisor_proc_stat"), "cstime")).isEqualTo(Double.parseDouble(stat[14]));
            Map<String, Long> status = KeyValues.parse(Files.readString(Path.of("/proc", pid, "status")), false);
            assertThat(item(f.get("kata_hypervisor_proc_status"), "vmsize")).isEqualTo(status.get("VmSize") * 1024.0);
            assertThat(item(f.get("kata_hypervisor_proc_status"), "voluntary_ctxt_switches")).isGreaterThanOrEqualTo(0);
            assertThat(item(f.get("kata_hypervisor_proc_status"), "vmpmd")).isEqualTo(status.containsKey("VmPMD") ? status.get("VmPMD") * 1024.0 : 0);
            Map<String, Long> io = KeyValues.parse(Files.readString(Path.of("/proc", pid, "io")), false);
            assertThat(item(f.get("kata_hypervisor_io_stat"), "cancelledwritebytes")).isEqualTo((double) io.get("cancelled_write_bytes"));
            try (var fds = Files.list(Path.of("/proc", pid, "fd"))) {
                assertThat(value(f.get("kata_hypervisor_fds"))).isEqualTo(fds.count());
            }
            List<NetDevLine> netdev = NetDevLine.parse(Files.readString(Path.of("/proc", pid, "net", "dev")));
            assertThat(f.get("kata_hypervisor_netdev").samples()).hasSize(netdev.size() * 16);
            assertThat(f.get("kata_hypervisor_netdev").samples().stream().map(s -> s.label("interface")).distinct().toList())
                    .containsExactlyElementsOf(netdev.stream().map(NetDevLine::name).toList());
        } finally {
            child.destroyForcibly().waitFor();
        }
    }

    @Test
    void netDevColumnsMapToTheSpecsItems() {
        List<NetDevLine> lines = NetDevLine.parse("""
                Inter-|   Receive                                                |  Transmit
                 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
                  eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16
                """);
        List<Sample> samples = ProcessFamilies.of("p", ProcessFamilies.Help.SHIM,
                new ProcessSnapshot(null, Map.of(), Map.of(), -1, java.util.OptionalLong.empty(), java.util.OptionalLong.empty(), lines))
                .stream().filter(f -> f.name().equals("p_netdev")).findFirst().orElseThrow().samples();
        Map<String, Double> byItem = new HashMap<>();
        samples.forEach(s -> byItem.put(s.label("item"), s.value()));
        assertThat(byItem).containsEntry("recv_bytes", 1.0).containsEntry("recv_multicast", 8.0).containsEntry("sent_bytes", 9.0)
                .containsEntry("sent_colls", 14.0).containsEntry("sent_carrier", 15.0).containsEntry("sent_compressed", 16.0)
                .hasSize(16);
    }
}
