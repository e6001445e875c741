package dev.katashim.agent.guest.stats;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.katashim.protocols.kata.agent.CgroupStats;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class CgroupStatsMapperTest {

    @Test
    void runcStatsOfCgroupV1MapToCgroupStats() throws Exception {
        // Shape and numbers as runc 1.1 printed them on this project's cgroup v1 build machine.
        String json = """
                {"cpu":{"usage":{"total":10289512,"percpu":[10289512,0],"kernel":10000000,"user":0},
                        "throttling":{"periods":4,"throttled_periods":1,"throttled_time":77}},
                 "memory":{"cache":4096,"usage":{"limit":67108864,"usage":454656,"max":2269184,"failcnt":0},
                           "swap":{"limit":9223372036854771712,"usage":454656,"max":2269184,"failcnt":0},
                           "kernel":{"limit":9223372036854771712,"usage":323584,"max":708608,"failcnt":0},
                           "raw":{"total_cache":0,"total_rss":106496,"pgfault":762}},
                 "pids":{"current":2,"limit":100},
                 "blkio":{"ioServiceBytesRecursive":[{"major":8,"minor":0,"op":"Read","value":4096}]},
                 "hugetlb":{"2MB":{"usage":0,"max":2097152,"failcnt":1}}}
                """;
        CgroupStats stats = CgroupStatsMapper.map(new ObjectMapper().readTree(json));
        assertThat(stats.getCpuStats().getCpuUsage().getTotalUsage()).isEqualTo(10289512);
        assertThat(stats.getCpuStats().getCpuUsage().getPercpuUsageList()).isEqualTo(List.of(10289512L, 0L));
        assertThat(stats.getCpuStats().getCpuUsage().getUsageInKernelmode()).isEqualTo(10000000);
        assertThat(stats.getCpuStats().getThrottlingData().getThrottledTime()).isEqualTo(77);
        assertThat(stats.getMemoryStats().getCache()).isEqualTo(4096);
        assertThat(stats.getMemoryStats().getUsage().getUsage()).isEqualTo(454656);
        assertThat(stats.getMemoryStats().getUsage().getMaxUsage()).isEqualTo(2269184);
        assertThat(stats.getMemoryStats().getUsage().getLimit()).isEqualTo(67108864);
        assertThat(stats.getMemoryStats().getKernelUsage().getUsage()).isEqualTo(323584);
        assertThat(stats.getMemoryStats().getUseHierarchy()).isTrue();
        assertThat(stats.getMemoryStats().getStatsMap()).containsEntry("total_rss", 106496L).containsEntry("pgfault", 762L);
        assertThat(stats.getPidsStats().getCurrent()).isEqualTo(2);
        assertThat(stats.getBlkioStats().getIoServiceBytesRecursive(0).getOp()).isEqualTo("Read");
        assertThat(stats.getHugetlbStatsMap().get("2MB").getMaxUsage()).isEqualTo(2097152);
    }

    @Test
    void uint64MaximumSurvives() throws Exception {
        CgroupStats stats = CgroupStatsMapper.map(new ObjectMapper().readTree(
                "{\"memory\":{\"usage\":{\"limit\":18446744073709551615}}}"));
        assertThat(Long.toUnsignedString(stats.getMemoryStats().getUsage().getLimit())).isEqualTo("18446744073709551615");
    }
}
