package dev.katashim.shim.task;

import com.google.protobuf.Any;
import com.google.protobuf.Message;
import dev.katashim.protocols.cgroups.v1.BlkIOEntry;
import dev.katashim.protocols.cgroups.v1.BlkIOStat;
import dev.katashim.protocols.cgroups.v1.CPUStat;
import dev.katashim.protocols.cgroups.v1.CPUUsage;
import dev.katashim.protocols.cgroups.v1.HugetlbStat;
import dev.katashim.protocols.cgroups.v1.MemoryEntry;
import dev.katashim.protocols.cgroups.v1.MemoryStat;
import dev.katashim.protocols.cgroups.v1.Metrics;
import dev.katashim.protocols.cgroups.v1.PidsStat;
import dev.katashim.protocols.cgroups.v1.Throttle;
import dev.katashim.protocols.kata.agent.BlkioStatsEntry;
import dev.katashim.protocols.kata.agent.CgroupStats;
import dev.katashim.protocols.kata.agent.HugetlbStats;
import dev.katashim.protocols.kata.agent.MemoryData;
import dev.katashim.protocols.kata.agent.MemoryStats;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The agent's {@code CgroupStats} → what {@code ctr task metrics} and CRI decode: an {@code Any}
 * with the bare type URL {@code io.containerd.cgroups.v1.Metrics} or {@code ...v2.Metrics}, v1 or
 * v2 chosen by the host's cgroup mode, as upstream.
 */
final class CgroupMetrics {
    private CgroupMetrics() {
    }

    static Any pack(CgroupStats stats) {
        return any(hostIsUnified() ? v2(stats) : v1(stats));
    }

    static boolean hostIsUnified() {
        return Files.exists(Path.of("/sys/fs/cgroup/cgroup.controllers"));
    }

    /** containerd compares the type URL exactly: the full name, without type.googleapis.com/. */
    private static Any any(Message metrics) {
        return Any.newBuilder().setTypeUrl(metrics.getDescriptorForType().getFullName()).setValue(metrics.toByteString()).build();
    }

    static Metrics v1(CgroupStats stats) {
        MemoryStats memory = stats.getMemoryStats();
        Map<String, Long> m = memory.getStatsMap();
        boolean hierarchical = memory.getUseHierarchy();
        Metrics.Builder v1 = Metrics.newBuilder()
                .setPids(PidsStat.newBuilder().setCurrent(stats.getPidsStats().getCurrent()).setLimit(stats.getPidsStats().getLimit()))
                .setCpu(CPUStat.newBuilder()
                        .setUsage(CPUUsage.newBuilder()
                                .setTotal(stats.getCpuStats().getCpuUsage().getTotalUsage())
                                .setKernel(stats.getCpuStats().getCpuUsage().getUsageInKernelmode())
                                .setUser(stats.getCpuStats().getCpuUsage().getUsageInUsermode())
                                .addAllPerCpu(stats.getCpuStats().getCpuUsage().getPercpuUsageList()))
                        .setThrottling(Throttle.newBuilder()
                                .setPeriods(stats.getCpuStats().getThrottlingData().getPeriods())
                                .setThrottledPeriods(stats.getCpuStats().getThrottlingData().getThrottledPeriods())
                                .setThrottledTime(stats.getCpuStats().getThrottlingData().getThrottledTime())))
                .setMemory(MemoryStat.newBuilder()
                        .setCache(memory.getCache())
                        .setRss(stat(m, hierarchical, "rss"))
                        .setMappedFile(stat(m, hierarchical, "mapped_file"))
                        .setPgFault(stat(m, hierarchical, "pgfault"))
                        .setPgMajFault(stat(m, hierarchical, "pgmajfault"))
                        .setTotalCache(m.getOrDefault("total_cache", memory.getCache()))
                        .setTotalRss(m.getOrDefault("total_rss", 0L))
                        .setTotalMappedFile(m.getOrDefault("total_mapped_file", 0L))
                        .setTotalInactiveFile(m.getOrDefault("total_inactive_file", 0L))
                        .setInactiveFile(m.getOrDefault("inactive_file", 0L))
                        .setUsage(entry(memory.getUsage()))
                        .setSwap(entry(memory.getSwapUsage()))
                        .setKernel(entry(memory.getKernelUsage())))
                .setBlkio(BlkIOStat.newBuilder()
                        .addAllIoServiceBytesRecursive(blkio(stats.getBlkioStats().getIoServiceBytesRecursiveList()))
                        .addAllIoServicedRecursive(blkio(stats.getBlkioStats().getIoServicedRecursiveList()))
                        .addAllIoQueuedRecursive(blkio(stats.getBlkioStats().getIoQueuedRecursiveList()))
                        .addAllIoServiceTimeRecursive(blkio(stats.getBlkioStats().getIoServiceTimeRecursiveList()))
                        .addAllIoWaitTimeRecursive(blkio(stats.getBlkioStats().getIoWaitTimeRecursiveList()))
                        .addAllIoMergedRecursive(blkio(stats.getBlkioStats().getIoMergedRecursiveList()))
                        .addAllIoTimeRecursive(blkio(stats.getBlkioStats().getIoTimeRecursiveList()))
                        .addAllSectorsRecursive(blkio(stats.getBlkioStats().getSectorsRecursiveList())));
        stats.getHugetlbStatsMap().entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> {
            HugetlbStats h = e.getValue();
            v1.addHugetlb(HugetlbStat.newBuilder().setPagesize(e.getKey()).setUsage(h.getUsage()).setMax(h.getMaxUsage()).setFailcnt(h.getFailcnt()));
        });
        return v1.build();
    }

    /** With a hierarchy, the cgroup's own figures include its children's: prefer the total_ key. */
    private static long stat(Map<String, Long> stats, boolean hierarchical, String key) {
        Long total = hierarchical ? stats.get("total_" + key) : null;
        return total != null ? total : stats.getOrDefault(key, 0L);
    }

    private static MemoryEntry entry(MemoryData data) {
        return MemoryEntry.newBuilder().setUsage(data.getUsage()).setMax(data.getMaxUsage()).setFailcnt(data.getFailcnt())
                .setLimit(data.getLimit()).build();
    }

    private static List<BlkIOEntry> blkio(List<BlkioStatsEntry> entries) {
        return entries.stream().map(e -> BlkIOEntry.newBuilder().setMajor(e.getMajor()).setMinor(e.getMinor())
                .setOp(e.getOp()).setValue(e.getValue()).build()).toList();
    }

    /** cgroup v2: microseconds from the agent's nanoseconds; user and system kept apart (upstream swaps them). */
    static dev.katashim.protocols.cgroups.v2.Metrics v2(CgroupStats stats) {
        var cpu = stats.getCpuStats();
        var memory = stats.getMemoryStats();
        Map<String, Long> m = memory.getStatsMap();
        return dev.katashim.protocols.cgroups.v2.Metrics.newBuilder()
                .setPids(dev.katashim.protocols.cgroups.v2.PidsStat.newBuilder()
                        .setCurrent(stats.getPidsStats().getCurrent()).setLimit(stats.getPidsStats().getLimit()))
                .setCpu(dev.katashim.protocols.cgroups.v2.CPUStat.newBuilder()
                        .setUsageUsec(cpu.getCpuUsage().getTotalUsage() / 1000)
                        .setUserUsec(cpu.getCpuUsage().getUsageInUsermode() / 1000)
                        .setSystemUsec(cpu.getCpuUsage().getUsageInKernelmode() / 1000)
                        .setNrPeriods(cpu.getThrottlingData().getPeriods())
                        .setNrThrottled(cpu.getThrottlingData().getThrottledPeriods())
                        .setThrottledUsec(cpu.getThrottlingData().getThrottledTime() / 1000))
                .setMemory(dev.katashim.protocols.cgroups.v2.MemoryStat.newBuilder()
                        .setUsage(memory.getUsage().getUsage()).setUsageLimit(memory.getUsage().getLimit())
                        .setSwapUsage(memory.getSwapUsage().getUsage()).setSwapLimit(memory.getSwapUsage().getLimit())
                        .setAnon(m.getOrDefault("anon", 0L)).setFile(m.getOrDefault("file", 0L))
                        .setPgfault(m.getOrDefault("pgfault", 0L)).setPgmajfault(m.getOrDefault("pgmajfault", 0L))
                        .setInactiveFile(m.getOrDefault("inactive_file", 0L)).setActiveFile(m.getOrDefault("active_file", 0L)))
                .build();
    }
}
