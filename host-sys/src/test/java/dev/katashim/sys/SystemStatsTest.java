package dev.katashim.sys;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class SystemStatsTest {

    @Test
    void cpuTimesHaveATotalAndOneLinePerCpuOfProcStat() throws Exception {
        Map<String, long[]> cpus = SystemStats.HOST.cpuTimes();
        long cpuLines = Files.readAllLines(Path.of("/proc/stat")).stream().filter(l -> l.startsWith("cpu")).count();
        assertThat(cpus).containsKeys("cpu", "cpu0").hasSize((int) cpuLines);
        assertThat(cpus.get("cpu")).hasSize(10);
        assertThat(cpus.get("cpu")[3]).as("idle ticks").isPositive();
    }

    @Test
    void memoryLoadAndVmstatAreThisMachines() throws Exception {
        long memTotalKb = Files.readAllLines(Path.of("/proc/meminfo")).stream().filter(l -> l.startsWith("MemTotal:"))
                .map(l -> Long.parseLong(l.replaceAll("[^0-9]", ""))).findFirst().orElseThrow();
        assertThat(SystemStats.HOST.meminfo()).containsEntry("MemTotal", memTotalKb * 1024);
        assertThat(SystemStats.HOST.loadAverage()).hasValueSatisfying(l -> {
            assertThat(l.total()).isPositive();
            assertThat(l.runnable()).isBetween(1L, l.total()); // this thread runs
        });
        assertThat(SystemStats.HOST.vmstat()).containsKey("pgfault");
        long disks = Files.readAllLines(Path.of("/proc/diskstats")).stream().filter(l -> !l.isBlank()).count();
        assertThat(SystemStats.HOST.diskstats()).hasSize((int) disks);
    }

    @Test
    void fixtureFilesParseAndMissingOnesAreEmpty(@TempDir Path root) throws Exception {
        Files.writeString(root.resolve("stat"), "cpu  10 1 5 100 2 0 3 0 0 0\ncpu0 10 1 5 100 2 0 3\nintr 1 2\nbtime 1700000000\n");
        Files.writeString(root.resolve("loadavg"), "0.20 0.18 0.12 1/80 11206\n");
        Files.writeString(root.resolve("diskstats"),
                "   8       0 sda 100 2 300 4 50 6 700 8 0 9 10 1 0 2 3 4 5\n   7       0 loop0 1 0 2\n");
        SystemStats stats = new SystemStats(root);
        assertThat(stats.cpuTimes().get("cpu0")).containsExactly(10, 1, 5, 100, 2, 0, 3, 0, 0, 0);
        assertThat(stats.loadAverage()).contains(new LoadAverage(0.20, 0.18, 0.12, 1, 80));
        assertThat(stats.diskstats()).containsOnlyKeys("sda");
        assertThat(stats.diskstats().get("sda")).hasSize(17).startsWith(100, 2, 300);
        assertThat(stats.vmstat()).isEmpty();
        assertThat(stats.meminfo()).isEmpty();
        assertThat(new ProcFs(root).bootTime()).isEqualTo(1700000000L);
        assertThat(LoadAverage.parse("garbage")).isEmpty();
    }
}
