package dev.katashim.metrics.proc;

import dev.katashim.metrics.expo.MetricFamily;
import dev.katashim.metrics.expo.MetricType;
import dev.katashim.metrics.expo.Sample;
import dev.katashim.sys.NetDevLine;
import dev.katashim.sys.ProcessSnapshot;
import dev.katashim.sys.ProcessStat;
import dev.katashim.sys.SystemConstants;
import dev.katashim.sys.Unsigned;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns a {@link ProcessSnapshot} into the metric families docs/metrics.md names for a process:
 * {@code <prefix>_threads}, {@code _fds}, {@code _proc_status{item}}, {@code _proc_stat{item}},
 * {@code _io_stat{item}}, {@code _netdev{interface,item}} (items as the Go runtime names them),
 * and, for the shim, the standard process collector's {@code <prefix>_process_*}.
 */
public final class ProcessFamilies {
    /** {@code /proc/<pid>/status} key → item. Sizes are bytes (the kernel prints kB). */
    public static final Map<String, String> STATUS_ITEMS = ordered(
            "VmPeak", "vmpeak", "VmSize", "vmsize", "VmLck", "vmlck", "VmPin", "vmpin", "VmHWM", "vmhwm",
            "VmRSS", "vmrss", "RssAnon", "rssanon", "RssFile", "rssfile", "RssShmem", "rssshmem",
            "VmData", "vmdata", "VmStk", "vmstk", "VmExe", "vmexe", "VmLib", "vmlib", "VmPTE", "vmpte",
            "VmPMD", "vmpmd", "VmSwap", "vmswap", "HugetlbPages", "hugetlbpages",
            "voluntary_ctxt_switches", "voluntary_ctxt_switches",
            "nonvoluntary_ctxt_switches", "nonvoluntary_ctxt_switches");

    /** {@code /proc/<pid>/io} key → item (the metrics reference's spelling, without underscores in the byte counts). */
    public static final Map<String, String> IO_ITEMS = ordered(
            "rchar", "rchar", "wchar", "wchar", "syscr", "syscr", "syscw", "syscw",
            "read_bytes", "readbytes", "write_bytes", "writebytes", "cancelled_write_bytes", "cancelledwritebytes");

    /** Items of {@code _proc_stat}: clock ticks. */
    public static final List<String> STAT_ITEMS = List.of("utime", "stime", "cutime", "cstime");

    /**
     * Newer kernels count the PMD page tables in {@code VmPTE} and no longer print {@code VmPMD}
     * (this machine's 6.x does not). Upstream (Go, procfs) then reports 0 for it; so do we, for this one item only, so that the
     * series the metrics reference lists exists on every kernel. Any other missing key is left out.
     */
    private static final String FOLDED_INTO_VMPTE = "VmPMD";

    private ProcessFamilies() {
    }

    /** Help texts of one process's families. */
    public record Help(String threads, String fds, String procStatus, String procStat, String ioStat, String netdev) {
        public static final Help SHIM = new Help("Kata containerd shim v2 process threads.", "Kata containerd shim v2 open FDs.",
                "Kata containerd shim v2 process status.", "Kata containerd shim v2 process statistics.",
                "Kata containerd shim v2 process IO statistics.", "Kata containerd shim v2 network devices statistics.");
        public static final Help HYPERVISOR = new Help("Hypervisor process threads.", "Open FDs for hypervisor.",
                "Hypervisor process status.", "Hypervisor process statistics.", "Process IO statistics.", "Net devices statistics.");
    }

    /** The six per-process families under {@code prefix} ({@code kata_shim}, {@code kata_hypervisor}). */
    public static List<MetricFamily> of(String prefix, Help help, ProcessSnapshot snapshot) {
        List<Sample> threads = new ArrayList<>(1);
        List<Sample> stat = new ArrayList<>(4);
        if (snapshot.stat() != null) {
            ProcessStat s = snapshot.stat();
            threads.add(Sample.of(prefix + "_threads", s.threads()));
            long[] values = {s.utime(), s.stime(), s.cutime(), s.cstime()};
            for (int i = 0; i < values.length; i++) {
                stat.add(Sample.of(prefix + "_proc_stat", values[i], "item", STAT_ITEMS.get(i)));
            }
        }
        List<Sample> fds = new ArrayList<>(1);
        if (snapshot.openFds() >= 0) {
            fds.add(Sample.of(prefix + "_fds", snapshot.openFds()));
        }
        List<Sample> status = new ArrayList<>(STATUS_ITEMS.size());
        if (!snapshot.status().isEmpty()) {
            STATUS_ITEMS.forEach((key, item) -> {
                Long value = snapshot.status().get(key);
                if (value == null && key.equals(FOLDED_INTO_VMPTE)) {
                    value = 0L;
                }
                if (value != null) {
                    status.add(Sample.of(prefix + "_proc_status", value, "item", item));
                }
            });
        }
        List<Sample> io = new ArrayList<>(IO_ITEMS.size());
        IO_ITEMS.forEach((key, item) -> {
            Long value = snapshot.io().get(key);
            if (value != null) {
                io.add(Sample.of(prefix + "_io_stat", Unsigned.toDouble(value), "item", item));
            }
        });
        List<Sample> netdev = new ArrayList<>(snapshot.netdev().size() * 16);
        for (NetDevLine line : snapshot.netdev()) {
            for (int i = 0; i < 8; i++) {
                netdev.add(Sample.of(prefix + "_netdev", Unsigned.toDouble(line.receive()[i]),
                        "interface", line.name(), "item", NetDevLine.RECEIVE_ITEMS.get(i)));
            }
            for (int i = 0; i < 8; i++) {
                netdev.add(Sample.of(prefix + "_netdev", Unsigned.toDouble(line.transmit()[i]),
                        "interface", line.name(), "item", NetDevLine.TRANSMIT_ITEMS.get(i)));
            }
        }
        return List.of(
                new MetricFamily(prefix + "_threads", MetricType.GAUGE, help.threads(), threads),
                new MetricFamily(prefix + "_fds", MetricType.GAUGE, help.fds(), fds),
                new MetricFamily(prefix + "_proc_status", MetricType.GAUGE, help.procStatus(), status),
                new MetricFamily(prefix + "_proc_stat", MetricType.GAUGE, help.procStat(), stat),
                new MetricFamily(prefix + "_io_stat", MetricType.GAUGE, help.ioStat(), io),
                new MetricFamily(prefix + "_netdev", MetricType.GAUGE, help.netdev(), netdev));
    }

    /**
     * The standard process collector's seven families under {@code prefix}, computed from /proc as
     * Prometheus' Go client computes them (so they agree with /proc/&lt;pid&gt;, not with the JVM's view).
     */
    public static List<MetricFamily> processCollector(String prefix, ProcessSnapshot snapshot, long bootTimeSeconds) {
        String p = prefix + "_process_";
        double ticks = SystemConstants.CLOCK_TICKS_PER_SECOND;
        List<MetricFamily> families = new ArrayList<>(7);
        ProcessStat s = snapshot.stat();
        families.add(family(p + "cpu_seconds_total", MetricType.COUNTER, "Total user and system CPU time spent in seconds.", "seconds",
                s == null ? null : (s.utime() + s.stime()) / ticks));
        families.add(family(p + "max_fds", MetricType.GAUGE, "Maximum number of open file descriptors.", "",
                snapshot.maxFds().isPresent() ? Unsigned.toDouble(snapshot.maxFds().getAsLong()) : null));
        families.add(family(p + "open_fds", MetricType.GAUGE, "Number of open file descriptors.", "",
                snapshot.openFds() >= 0 ? (double) snapshot.openFds() : null));
        families.add(family(p + "resident_memory_bytes", MetricType.GAUGE, "Resident memory size in bytes.", "bytes",
                s == null ? null : (double) s.rssPages() * SystemConstants.PAGE_SIZE));
        families.add(family(p + "start_time_seconds", MetricType.GAUGE, "Start time of the process since unix epoch in seconds.", "seconds",
                s == null ? null : bootTimeSeconds + s.startTicks() / ticks));
        families.add(family(p + "virtual_memory_bytes", MetricType.GAUGE, "Virtual memory size in bytes.", "bytes",
                s == null ? null : (double) s.vsize()));
        families.add(family(p + "virtual_memory_max_bytes", MetricType.GAUGE, "Maximum amount of virtual memory available in bytes.", "bytes",
                snapshot.maxAddressSpace().isPresent() ? Unsigned.toDouble(snapshot.maxAddressSpace().getAsLong()) : null));
        return families;
    }

    private static MetricFamily family(String name, MetricType type, String help, String unit, Double value) {
        return new MetricFamily(name, type, help, unit, value == null ? List.of() : List.of(Sample.of(name, value)));
    }

    private static Map<String, String> ordered(String... pairs) {
        Map<String, String> map = new LinkedHashMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            map.put(pairs[i], pairs[i + 1]);
        }
        return java.util.Collections.unmodifiableMap(map);
    }
}
