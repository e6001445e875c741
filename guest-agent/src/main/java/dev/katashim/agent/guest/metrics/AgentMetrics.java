package dev.katashim.agent.guest.metrics;

import dev.katashim.sys.Mount;
import dev.katashim.sys.MountTable;
import dev.katashim.sys.NetDevLine;
import dev.katashim.sys.ProcFs;
import dev.katashim.sys.ProcessStat;
import dev.katashim.sys.SoftLimits;
import dev.katashim.sys.SystemConstants;
import dev.katashim.sys.SystemStats;
import dev.katashim.sys.Unsigned;
import io.prometheus.metrics.config.EscapingScheme;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * What GetMetrics answers: Prometheus text with {@code kata_agent_*} for the agent's own process
 * and {@code kata_guest_*} for the machine it runs on, families and items as upstream's agent
 * (src/agent/src/metrics.rs) names them, plus the process collector's metrics under
 * {@code kata_agent_process_*}. Item names of io_stat follow the metrics reference (docs/metrics.md)
 * ({@code readbytes}, {@code writebytes}, {@code cancelledwritebytes}). Every value is read from
 * /proc at scrape time; sizes are bytes, CPU times of {@code kata_guest_cpu_time} milliseconds.
 * Unlike upstream's agent, series that tell an operator nothing are not made (the metrics
 * reference says which): vmstat and disks as node_exporter selects them by default, and no zero for
 * a meminfo key the kernel does not print.
 */
public final class AgentMetrics {
    private static final String AGENT = "kata_agent";
    private static final String GUEST = "kata_guest";
    private static final String SELF = "self";
    private static final double TICKS_PER_SECOND = SystemConstants.CLOCK_TICKS_PER_SECOND;
    /** What an unreadable stat line is reported as: upstream's agent reports zeros, too. */
    private static final ProcessStat NO_STAT = new ProcessStat(0, 0, 0, 0, 0, 0, 0, 0);

    /** /proc/<pid>/status keys → item names. */
    private static final Map<String, String> STATUS_ITEMS = ordered(
            "VmPeak", "vmpeak", "VmSize", "vmsize", "VmLck", "vmlck", "VmPin", "vmpin", "VmHWM", "vmhwm",
            "VmRSS", "vmrss", "RssAnon", "rssanon", "RssFile", "rssfile", "RssShmem", "rssshmem",
            "VmData", "vmdata", "VmStk", "vmstk", "VmExe", "vmexe", "VmLib", "vmlib", "VmPMD", "vmpmd", "VmPTE", "vmpte",
            "VmSwap", "vmswap", "HugetlbPages", "hugetlbpages",
            "voluntary_ctxt_switches", "voluntary_ctxt_switches",
            "nonvoluntary_ctxt_switches", "nonvoluntary_ctxt_switches");

    /** /proc/<pid>/io keys → item names (the metrics reference's spelling). */
    private static final Map<String, String> IO_ITEMS = ordered(
            "rchar", "rchar", "wchar", "wchar", "syscr", "syscr", "syscw", "syscw",
            "read_bytes", "readbytes", "write_bytes", "writebytes", "cancelled_write_bytes", "cancelledwritebytes");

    /** /proc/meminfo keys → upstream's item names. */
    private static final Map<String, String> MEMINFO_ITEMS = ordered(
            "MemTotal", "mem_total", "MemFree", "mem_free", "MemAvailable", "mem_available", "Buffers", "buffers",
            "Cached", "cached", "SwapCached", "swap_cached", "Active", "active", "Inactive", "inactive",
            "Active(anon)", "active_anon", "Inactive(anon)", "inactive_anon", "Active(file)", "active_file",
            "Inactive(file)", "inactive_file", "Unevictable", "unevictable", "Mlocked", "mlocked",
            "HighTotal", "high_total", "HighFree", "high_free", "LowTotal", "low_total", "LowFree", "low_free",
            "MmapCopy", "mmap_copy", "SwapTotal", "swap_total", "SwapFree", "swap_free", "Dirty", "dirty",
            "Writeback", "writeback", "AnonPages", "anon_pages", "Mapped", "mapped", "Shmem", "shmem",
            "Slab", "slab", "SReclaimable", "s_reclaimable", "SUnreclaim", "s_unreclaim",
            "KernelStack", "kernel_stack", "PageTables", "page_tables", "Quicklists", "quicklists",
            "NFS_Unstable", "nfs_unstable", "Bounce", "bounce", "WritebackTmp", "writeback_tmp",
            "CommitLimit", "commit_limit", "Committed_AS", "committed_as", "VmallocTotal", "vmalloc_total",
            "VmallocUsed", "vmalloc_used", "VmallocChunk", "vmalloc_chunk", "HardwareCorrupted", "hardware_corrupted",
            "AnonHugePages", "anon_hugepages", "ShmemHugePages", "shmem_hugepages", "ShmemPmdMapped", "shmem_pmd_mapped",
            "CmaTotal", "cma_total", "CmaFree", "cma_free", "HugePages_Total", "hugepages_total",
            "HugePages_Free", "hugepages_free", "HugePages_Rsvd", "hugepages_rsvd", "HugePages_Surp", "hugepages_surp",
            "Hugepagesize", "hugepagesize", "DirectMap4k", "direct_map_4k", "DirectMap4M", "direct_map_4M",
            "DirectMap2M", "direct_map_2M", "DirectMap1G", "direct_map_1G", "Hugetlb", "hugetlb",
            "Percpu", "per_cpu", "KReclaimable", "k_reclaimable");

    private static final List<String> CPU_ITEMS = List.of(
            "user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal", "guest", "guest_nice");
    private static final List<String> DISK_ITEMS = List.of(
            "reads", "merged", "sectors_read", "time_reading", "writes", "writes_merged", "sectors_written",
            "time_writing", "in_progress", "time_in_progress", "weighted_time_in_progress",
            "discards", "discards_merged", "sectors_discarded", "time_discarding", "flushes", "time_flushing");
    private static final Set<String> REAL_FILESYSTEMS = Set.of("ext4", "xfs", "btrfs", "vfat", "overlay");
    /**
     * The /proc/vmstat counters served: node_exporter's default selection
     * ({@code --collector.vmstat.fields}): paging, swapping, faults and OOM kills. The other ~160
     * lines are kernel internals (NUMA, THP, compaction, zone counters that meminfo already has).
     */
    private static final Pattern VM_STAT_FIELDS = Pattern.compile("^(oom_kill|pgpg|pswp|pg.*fault).*");
    /**
     * Block devices left out: node_exporter's default ({@code --collector.diskstats.device-exclude}):
     * RAM disks, loop and floppy devices, and partitions (their whole disk is served).
     */
    private static final Pattern DISKS_LEFT_OUT =
            Pattern.compile("^(z?ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\\d+n\\d+p)\\d+$");

    private final ProcFs proc;
    private final SystemStats system;
    private final Path mountinfo;
    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final PrometheusTextFormatWriter writer = PrometheusTextFormatWriter.create();

    private final Counter scrapes;
    private final Gauge threads;
    private final Gauge fds;
    private final Gauge totalTime;
    private final Gauge totalVm;
    private final Gauge totalRss;
    private final Gauge procStatus;
    private final Gauge ioStat;
    private final Gauge procStat;
    private final Gauge openFds;
    private final Gauge maxFds;
    private final Gauge residentMemory;
    private final Gauge virtualMemory;
    private final Gauge virtualMemoryMax;
    private final Gauge startTime;

    private final Gauge load;
    private final Gauge tasks;
    private final Gauge cpuTime;
    private final Gauge vmStat;
    private final Gauge netdev;
    private final Gauge diskstat;
    private final Gauge meminfo;
    private final Gauge filesystemBytes;

    public AgentMetrics() {
        this(Path.of("/proc"));
    }

    AgentMetrics(Path procRoot) {
        this.proc = new ProcFs(procRoot);
        this.system = new SystemStats(procRoot);
        this.mountinfo = procRoot.resolve(SELF).resolve("mountinfo");
        scrapes = Counter.builder().name(AGENT + "_scrape_count").help("Metrics scrape count").register(registry);
        threads = gauge(AGENT + "_threads", "Agent process threads");
        fds = gauge(AGENT + "_fds", "Agent process open FDs");
        totalTime = gauge(AGENT + "_total_time", "Agent process total time (user + system CPU, seconds)");
        totalVm = gauge(AGENT + "_total_vm", "Agent process total VM size (bytes)");
        totalRss = gauge(AGENT + "_total_rss", "Agent process total RSS size (bytes)");
        procStatus = gauge(AGENT + "_proc_status", "Agent process status (see /proc/<pid>/status; sizes in bytes).", "item");
        ioStat = gauge(AGENT + "_io_stat", "Agent process IO statistics (see /proc/<pid>/io).", "item");
        procStat = gauge(AGENT + "_proc_stat", "Agent process statistics (see /proc/<pid>/stat; clock ticks).", "item");
        CounterWithCallback.builder().name(AGENT + "_process_cpu_seconds")
                .help("Total user and system CPU time spent in seconds.")
                .callback(cb -> {
                    ProcessStat stat = proc.stat(SELF).orElse(NO_STAT);
                    cb.call((stat.utime() + stat.stime()) / TICKS_PER_SECOND);
                }).register(registry);
        openFds = gauge(AGENT + "_process_open_fds", "Number of open file descriptors.");
        maxFds = gauge(AGENT + "_process_max_fds", "Maximum number of open file descriptors.");
        residentMemory = gauge(AGENT + "_process_resident_memory_bytes", "Resident memory size in bytes.");
        virtualMemory = gauge(AGENT + "_process_virtual_memory_bytes", "Virtual memory size in bytes.");
        virtualMemoryMax = gauge(AGENT + "_process_virtual_memory_max_bytes", "Maximum amount of virtual memory available in bytes.");
        startTime = gauge(AGENT + "_process_start_time_seconds", "Start time of the process since unix epoch in seconds.");

        load = gauge(GUEST + "_load", "Guest system load.", "item");
        tasks = gauge(GUEST + "_tasks", "Guest system tasks (cur: running, max: total).", "item");
        cpuTime = gauge(GUEST + "_cpu_time", "Guest CPU statistics (milliseconds).", "cpu", "item");
        vmStat = gauge(GUEST + "_vm_stat", "Guest virtual memory statistics.", "item");
        netdev = gauge(GUEST + "_netdev_stat", "Guest net devices statistics.", "interface", "item");
        diskstat = gauge(GUEST + "_diskstat", "Disks statistics in system.", "disk", "item");
        meminfo = gauge(GUEST + "_meminfo", "Statistics about memory usage in the system (bytes; hugepages_* counts).", "item");
        filesystemBytes = gauge(GUEST + "_filesystem_bytes", "Guest filesystem space usage in bytes.", "mount", "device", "item");
    }

    private Gauge gauge(String name, String help, String... labels) {
        return Gauge.builder().name(name).help(help).labelNames(labels).register(registry);
    }

    /** Reads /proc afresh and renders every family as Prometheus text (version 0.0.4). */
    public synchronized String scrape() {
        scrapes.inc();
        updateAgent();
        updateGuest();
        ByteArrayOutputStream out = new ByteArrayOutputStream(64 * 1024);
        try {
            writer.write(out, registry.scrape(), EscapingScheme.ALLOW_UTF8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    private void updateAgent() {
        ProcessStat stat = proc.stat(SELF).orElse(NO_STAT);
        threads.set(stat.threads());
        int open = Math.max(0, proc.openFds(SELF));
        fds.set(open);
        openFds.set(open);
        totalTime.set((stat.utime() + stat.stime()) / TICKS_PER_SECOND);
        totalVm.set(stat.vsize());
        virtualMemory.set(stat.vsize());
        Map<String, Long> status = proc.status(SELF);
        long rss = status.getOrDefault("VmRSS", 0L);
        totalRss.set(rss);
        residentMemory.set(rss);
        STATUS_ITEMS.forEach((key, item) -> procStatus.labelValues(item).set(status.getOrDefault(key, 0L)));
        Map<String, Long> io = proc.io(SELF);
        IO_ITEMS.forEach((key, item) -> ioStat.labelValues(item).set(io.getOrDefault(key, 0L)));
        procStat.labelValues("utime").set(stat.utime());
        procStat.labelValues("stime").set(stat.stime());
        procStat.labelValues("cutime").set(stat.cutime());
        procStat.labelValues("cstime").set(stat.cstime());
        maxFds.set(orZero(proc.softLimit(SELF, SoftLimits.MAX_OPEN_FILES)));
        virtualMemoryMax.set(orZero(proc.softLimit(SELF, SoftLimits.MAX_ADDRESS_SPACE)));
        startTime.set(proc.bootTime() + stat.startTicks() / TICKS_PER_SECOND);
    }

    private void updateGuest() {
        system.loadAverage().ifPresent(average -> {
            load.labelValues("load1").set(average.load1());
            load.labelValues("load5").set(average.load5());
            load.labelValues("load15").set(average.load15());
            tasks.labelValues("cur").set(average.runnable());
            tasks.labelValues("max").set(average.total());
        });
        cpuTime.clear();
        system.cpuTimes().forEach((name, ticks) -> {
            String cpu = name.equals("cpu") ? "total" : name.substring("cpu".length());
            for (int i = 0; i < CPU_ITEMS.size(); i++) {
                cpuTime.labelValues(cpu, CPU_ITEMS.get(i)).set(ticks[i] * 1000 / TICKS_PER_SECOND);
            }
        });
        vmStat.clear();
        system.vmstat().forEach((key, value) -> {
            if (VM_STAT_FIELDS.matcher(key).matches()) {
                vmStat.labelValues(key).set(value);
            }
        });
        netdev.clear();
        for (NetDevLine dev : proc.netDev(SELF)) {
            for (int i = 0; i < 8; i++) {
                netdev.labelValues(dev.name(), NetDevLine.RECEIVE_ITEMS.get(i)).set(dev.receive()[i]);
                netdev.labelValues(dev.name(), NetDevLine.TRANSMIT_ITEMS.get(i)).set(dev.transmit()[i]);
            }
        }
        diskstat.clear();
        system.diskstats().forEach((disk, values) -> {
            if (DISKS_LEFT_OUT.matcher(disk).matches()) {
                return;
            }
            for (int i = 0; i < DISK_ITEMS.size(); i++) {
                diskstat.labelValues(disk, DISK_ITEMS.get(i)).set(i < values.length ? values[i] : 0);
            }
        });
        meminfo.clear();
        Map<String, Long> mem = system.meminfo();
        MEMINFO_ITEMS.forEach((key, item) -> {
            Long value = mem.get(key);
            if (value != null) { // a key this kernel does not print is absent, not a made-up 0
                meminfo.labelValues(item).set(value);
            }
        });
        updateFilesystems();
    }

    private void updateFilesystems() {
        filesystemBytes.clear();
        Set<String> seen = new HashSet<>();
        List<Mount> mounts;
        try {
            mounts = MountTable.read(mountinfo).ofType(REAL_FILESYSTEMS);
        } catch (IOException e) {
            return; // no filesystem statistics this time
        }
        for (Mount mount : mounts) {
            if (mount.hasSuperOption("ro") || !seen.add(mount.majorMinor())) {
                continue;
            }
            String device = mount.source().substring(mount.source().lastIndexOf('/') + 1);
            String point = mount.mountPoint().toString();
            try {
                FileStore store = Files.getFileStore(mount.mountPoint());
                long total = store.getTotalSpace();
                long free = store.getUnallocatedSpace();
                filesystemBytes.labelValues(point, device, "total").set(total);
                filesystemBytes.labelValues(point, device, "used").set(Math.max(0, total - free));
                filesystemBytes.labelValues(point, device, "available").set(free);
            } catch (IOException | RuntimeException e) {
                // unmounted meanwhile, or not ours to see
            }
        }
    }

    /** A soft limit as the process collector reports it: unlimited as 2^64-1, unknown as 0. */
    private static double orZero(OptionalLong limit) {
        return limit.isPresent() ? Unsigned.toDouble(limit.getAsLong()) : 0;
    }

    private static Map<String, String> ordered(String... pairs) {
        Map<String, String> map = new LinkedHashMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            map.put(pairs[i], pairs[i + 1]);
        }
        return java.util.Collections.unmodifiableMap(map);
    }
}
