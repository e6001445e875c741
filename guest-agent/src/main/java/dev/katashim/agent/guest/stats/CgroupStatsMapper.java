package dev.katashim.agent.guest.stats;

import com.fasterxml.jackson.databind.JsonNode;
import dev.katashim.protocols.kata.agent.BlkioStats;
import dev.katashim.protocols.kata.agent.BlkioStatsEntry;
import dev.katashim.protocols.kata.agent.CgroupStats;
import dev.katashim.protocols.kata.agent.CpuStats;
import dev.katashim.protocols.kata.agent.CpuUsage;
import dev.katashim.protocols.kata.agent.HugetlbStats;
import dev.katashim.protocols.kata.agent.MemoryData;
import dev.katashim.protocols.kata.agent.MemoryStats;
import dev.katashim.protocols.kata.agent.PidsStats;
import dev.katashim.protocols.kata.agent.ThrottlingData;

import java.util.function.Consumer;

/**
 * runc's statistics sample (the {@code data} of {@code runc events --stats}: the same shape for
 * cgroup v1 and v2, runc reads the files) → the agent API's {@link CgroupStats}. Absent fields
 * stay zero.
 */
public final class CgroupStatsMapper {
    private CgroupStatsMapper() {
    }

    public static CgroupStats map(JsonNode data) {
        CgroupStats.Builder stats = CgroupStats.newBuilder();
        JsonNode cpu = data.path("cpu");
        JsonNode usage = cpu.path("usage");
        CpuUsage.Builder cpuUsage = CpuUsage.newBuilder()
                .setTotalUsage(u64(usage.path("total")))
                .setUsageInKernelmode(u64(usage.path("kernel")))
                .setUsageInUsermode(u64(usage.path("user")));
        for (JsonNode perCpu : usage.path("percpu")) {
            cpuUsage.addPercpuUsage(u64(perCpu));
        }
        JsonNode throttling = cpu.path("throttling");
        stats.setCpuStats(CpuStats.newBuilder()
                .setCpuUsage(cpuUsage)
                .setThrottlingData(ThrottlingData.newBuilder()
                        .setPeriods(u64(throttling.path("periods")))
                        .setThrottledPeriods(u64(throttling.path("throttled_periods")))
                        .setThrottledTime(u64(throttling.path("throttled_time")))));

        JsonNode memory = data.path("memory");
        JsonNode raw = memory.path("raw");
        MemoryStats.Builder memoryStats = MemoryStats.newBuilder()
                .setCache(u64(memory.path("cache")))
                .setUsage(memoryData(memory.path("usage")))
                .setSwapUsage(memoryData(memory.path("swap")))
                .setKernelUsage(memoryData(memory.path("kernel")))
                // cgroup v1 reports hierarchical totals (total_*); v2 is always hierarchical but has none.
                .setUseHierarchy(raw.has("total_cache") || raw.has("hierarchical_memory_limit"));
        raw.properties().forEach(e -> memoryStats.putStats(e.getKey(), u64(e.getValue())));
        stats.setMemoryStats(memoryStats);

        JsonNode pids = data.path("pids");
        stats.setPidsStats(PidsStats.newBuilder().setCurrent(u64(pids.path("current"))).setLimit(u64(pids.path("limit"))));

        JsonNode blkio = data.path("blkio");
        BlkioStats.Builder blkioStats = BlkioStats.newBuilder();
        entries(blkio.path("ioServiceBytesRecursive"), blkioStats::addIoServiceBytesRecursive);
        entries(blkio.path("ioServicedRecursive"), blkioStats::addIoServicedRecursive);
        entries(blkio.path("ioQueueRecursive"), blkioStats::addIoQueuedRecursive);
        entries(blkio.path("ioServiceTimeRecursive"), blkioStats::addIoServiceTimeRecursive);
        entries(blkio.path("ioWaitTimeRecursive"), blkioStats::addIoWaitTimeRecursive);
        entries(blkio.path("ioMergedRecursive"), blkioStats::addIoMergedRecursive);
        entries(blkio.path("ioTimeRecursive"), blkioStats::addIoTimeRecursive);
        entries(blkio.path("sectorsRecursive"), blkioStats::addSectorsRecursive);
        stats.setBlkioStats(blkioStats);

        data.path("hugetlb").properties().forEach(e -> stats.putHugetlbStats(e.getKey(), HugetlbStats.newBuilder()
                .setUsage(u64(e.getValue().path("usage")))
                .setMaxUsage(u64(e.getValue().path("max")))
                .setFailcnt(u64(e.getValue().path("failcnt")))
                .build()));
        return stats.build();
    }

    private static MemoryData memoryData(JsonNode node) {
        return MemoryData.newBuilder()
                .setUsage(u64(node.path("usage")))
                .setMaxUsage(u64(node.path("max")))
                .setFailcnt(u64(node.path("failcnt")))
                .setLimit(u64(node.path("limit")))
                .build();
    }

    private static void entries(JsonNode list, Consumer<BlkioStatsEntry> add) {
        for (JsonNode e : list) {
            add.accept(BlkioStatsEntry.newBuilder()
                    .setMajor(u64(e.path("major")))
                    .setMinor(u64(e.path("minor")))
                    .setOp(e.path("op").asText())
                    .setValue(u64(e.path("value")))
                    .build());
        }
    }

    /** A JSON unsigned 64-bit number (runc prints uint64 limits like 18446744073709551615). */
    static long u64(JsonNode node) {
        if (node == null || node.isMissingNode() || node.isNull()) {
            return 0;
        }
        if (node.isBigInteger() || node.isNumber()) {
            return node.bigIntegerValue().longValue();
        }
        try {
            return Long.parseUnsignedLong(node.asText());
        } catch (NumberFormatException e) {
            return 0;
        }
    }
}
