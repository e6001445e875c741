package dev.katashim.agent.guest.stats;

import dev.katashim.protocols.kata.agent.CgroupStats;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The parsing of cgroup v2 files, on their text as Linux 6.1 writes it (this build machine's host is
 * cgroup v1; the guest, v2, is read for real by the VM tests' Stats).
 */
class CgroupV2SamplerTest {

    @TempDir
    Path dir;

    @Test
    void unifiedFilesMapToRuncsV1ShapedFigures() throws Exception {
        write("cgroup.controllers", "cpuset cpu io memory hugetlb pids\n");
        write("cpu.stat", "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 7\nnr_throttled 2\nthrottled_usec 30\n");
        write("memory.current", "454656\n");
        write("memory.max", "67108864\n");
        write("memory.peak", "2269184\n");
        write("memory.events", "low 0\nhigh 0\nmax 3\noom 0\noom_kill 0\n");
        write("memory.swap.current", "4096\n");
        write("memory.swap.max", "max\n");
        write("memory.stat", "anon 106496\nfile 8192\npgfault 762\n");
        write("pids.current", "2\n");
        write("pids.max", "max\n");
        write("io.stat", "254:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n");
        write("hugetlb.2MB.current", "0\n");
        write("hugetlb.2MB.events", "max 1\n");
        write("hugetlb.2MB.rsvd.current", "0\n");

        CgroupStats stats = CgroupSampler.of(List.of(dir)).orElseThrow().sample();

        assertThat(stats.getCpuStats().getCpuUsage().getTotalUsage()).isEqualTo(1_500_000);
        assertThat(stats.getCpuStats().getCpuUsage().getUsageInUsermode()).isEqualTo(1_000_000);
        assertThat(stats.getCpuStats().getCpuUsage().getUsageInKernelmode()).isEqualTo(500_000);
        assertThat(stats.getCpuStats().getThrottlingData().getThrottledTime()).isEqualTo(30_000);
        assertThat(stats.getMemoryStats().getUsage().getUsage()).isEqualTo(454656);
        assertThat(stats.getMemoryStats().getUsage().getLimit()).isEqualTo(67108864);
        assertThat(stats.getMemoryStats().getUsage().getMaxUsage()).isEqualTo(2269184);
        assertThat(stats.getMemoryStats().getUsage().getFailcnt()).isEqualTo(3);
        assertThat(stats.getMemoryStats().getSwapUsage().getUsage()).isEqualTo(454656 + 4096); // memory + swap, as v1's memsw
        assertThat(Long.toUnsignedString(stats.getMemoryStats().getSwapUsage().getLimit())).isEqualTo("18446744073709551615");
        assertThat(stats.getMemoryStats().getCache()).isEqualTo(8192);
        assertThat(stats.getMemoryStats().getUseHierarchy()).isTrue();
        assertThat(stats.getMemoryStats().getStatsMap()).containsEntry("anon", 106496L).containsEntry("pgfault", 762L);
        assertThat(stats.getPidsStats().getCurrent()).isEqualTo(2);
        assertThat(stats.getPidsStats().getLimit()).isZero(); // "max": no limit
        assertThat(stats.getBlkioStats().getIoServiceBytesRecursiveList())
                .extracting(e -> e.getMajor() + ":" + e.getMinor() + " " + e.getOp() + " " + e.getValue())
                .containsExactly("254:0 Read 4096", "254:0 Write 8192");
        assertThat(stats.getBlkioStats().getIoServicedRecursiveList()).extracting(e -> e.getOp() + " " + e.getValue())
                .containsExactly("Read 1", "Write 2");
        assertThat(stats.getHugetlbStatsMap()).containsOnlyKeys("2MB");
        assertThat(stats.getHugetlbStatsMap().get("2MB").getFailcnt()).isEqualTo(1);
    }

    @Test
    void aCgroupWithoutMemoryOrPidsControllersStillHasItsCpuAndProcessCount() throws Exception {
        write("cgroup.controllers", "");
        write("cpu.stat", "usage_usec 10\nuser_usec 5\nsystem_usec 5\n");
        write("cgroup.procs", "41\n42\n");

        CgroupStats stats = CgroupSampler.of(List.of(dir)).orElseThrow().sample();

        assertThat(stats.getCpuStats().getCpuUsage().getTotalUsage()).isEqualTo(10_000);
        assertThat(stats.getPidsStats().getCurrent()).isEqualTo(2);
        assertThat(stats.getMemoryStats().getUsage().getUsage()).isZero();
    }

    @Test
    void aFileThatIsNoNumberFailsNamingTheFile() throws Exception {
        write("cgroup.controllers", "memory\n");
        write("memory.current", "lots\n");
        write("memory.max", "max\n");

        assertThatThrownBy(() -> CgroupSampler.of(List.of(dir)).orElseThrow().sample())
                .isInstanceOf(IOException.class).hasMessageContaining("memory.current").hasMessageContaining("\"lots\"");
    }

    @Test
    void aGoneCgroupHasNoSampler() throws IOException {
        assertThat(CgroupSampler.of(List.of(dir.resolve("gone")))).isEmpty();
    }

    private void write(String name, String text) throws IOException {
        Files.writeString(dir.resolve(name), text);
    }
}
