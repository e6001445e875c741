package dev.katashim.shim.sandbox;

import dev.katashim.metrics.container.ContainerUsage;
import dev.katashim.protocols.kata.agent.BlkioStats;
import dev.katashim.protocols.kata.agent.BlkioStatsEntry;
import dev.katashim.protocols.kata.agent.CgroupStats;
import dev.katashim.protocols.kata.agent.CpuStats;
import dev.katashim.protocols.kata.agent.CpuUsage;
import dev.katashim.protocols.kata.agent.MemoryData;
import dev.katashim.protocols.kata.agent.MemoryStats;
import dev.katashim.protocols.kata.agent.NetworkStats;
import dev.katashim.protocols.kata.agent.PidsStats;
import dev.katashim.protocols.kata.agent.StatsContainerResponse;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The agent's StatsContainer answer as cAdvisor reads a cgroup: answers shaped as runc reports cgroup v1 and v2. */
class ContainerStatsSamplerTest {
    private static StatsContainerResponse answer(MemoryStats.Builder memory) {
        return StatsContainerResponse.newBuilder().setCgroupStats(CgroupStats.newBuilder()
                        .setCpuStats(CpuStats.newBuilder().setCpuUsage(CpuUsage.newBuilder()
                                .setTotalUsage(3_000_000_000L).setUsageInUsermode(2_000_000_000L).setUsageInKernelmode(1_000_000_000L)))
                        .setMemoryStats(memory.setUsage(MemoryData.newBuilder().setUsage(100 << 20)))
                        .setPidsStats(PidsStats.newBuilder().setCurrent(4))
                        .setBlkioStats(BlkioStats.newBuilder()
                                .addIoServiceBytesRecursive(BlkioStatsEntry.newBuilder().setOp("Read").setValue(4096))
                                .addIoServiceBytesRecursive(BlkioStatsEntry.newBuilder().setOp("read").setValue(4096))
                                .addIoServiceBytesRecursive(BlkioStatsEntry.newBuilder().setOp("Write").setValue(512))
                                .addIoServiceBytesRecursive(BlkioStatsEntry.newBuilder().setOp("Total").setValue(8704))))
                .addNetworkStats(NetworkStats.newBuilder().setName("eth0").setRxBytes(10).setTxBytes(20).setRxDropped(1))
                .build();
    }

    @Test
    void cgroupV1Figures() {
        ContainerUsage u = ContainerStatsSampler.usage(answer(MemoryStats.newBuilder().setCache(30 << 20).putAllStats(Map.of(
                "total_inactive_file", 25L << 20, "inactive_file", 1L, "total_rss", 60L << 20, "rss", 2L))), 2);
        assertThat(u.cpuNanos()).isEqualTo(3_000_000_000L);
        assertThat(u.cpuUserNanos()).isEqualTo(2_000_000_000L);
        assertThat(u.cpuSystemNanos()).isEqualTo(1_000_000_000L);
        assertThat(u.memoryUsage()).isEqualTo(100 << 20);
        assertThat(u.memoryWorkingSet()).as("hierarchical totals first").isEqualTo(75 << 20);
        assertThat(u.memoryRss()).isEqualTo(60 << 20);
        assertThat(u.memoryCache()).isEqualTo(30 << 20);
        assertThat(u.oomEvents()).isEqualTo(2);
        assertThat(u.pids()).isEqualTo(4);
        assertThat(u.readBytes()).isEqualTo(8192);
        assertThat(u.writtenBytes()).isEqualTo(512);
        assertThat(u.network()).containsExactly(new ContainerUsage.Interface("eth0", 10, 0, 0, 1, 20, 0, 0, 0));
    }

    @Test
    void cgroupV2Figures() {
        ContainerUsage u = ContainerStatsSampler.usage(answer(MemoryStats.newBuilder().putAllStats(Map.of(
                "inactive_file", 10L << 20, "anon", 50L << 20, "file", 40L << 20))), 0);
        assertThat(u.memoryWorkingSet()).isEqualTo(90 << 20);
        assertThat(u.memoryRss()).isEqualTo(50 << 20);
        assertThat(u.memoryCache()).isEqualTo(40 << 20);
    }

    @Test
    void aWorkingSetIsNeverNegative() {
        ContainerUsage u = ContainerStatsSampler.usage(answer(MemoryStats.newBuilder().putStats("inactive_file", 200L << 20)), 0);
        assertThat(u.memoryWorkingSet()).isZero();
    }
}
