package dev.katashim.shim.resource.cgroup;

import dev.katashim.metrics.overhead.Usage;
import dev.katashim.metrics.overhead.PodOverhead;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The host cgroup for real on this machine's cgroup v1 (hybrid) hierarchies: create, move a real
 * process in, read what it uses, remove. Cgroup v2 is read from fixture text (this machine's
 * unified hierarchy has no controllers).
 */
class HostCgroupTest {

    @Test
    void holdsARealProcessAndMeasuresWhatItBurns() throws Exception {
        CgroupMounts mounts = CgroupMounts.ofThisProcess();
        assertThat(mounts.isV1()).as("this build machine runs cgroup v1 (hybrid)").isTrue();
        String path = "/kata-shim-metrics-test-" + UUID.randomUUID().toString().substring(0, 8);
        HostCgroup cgroup = HostCgroup.create(path);
        // started inside (as the shim starts its VMM): it holds 20 MB, then burns CPU
        java.util.List<String> command = new java.util.ArrayList<>(cgroup.launchPrefix());
        command.addAll(java.util.List.of("sh", "-c", "x=$(head -c 20000000 /dev/zero | tr '\\0' a); while :; do :; done"));
        Process burner = new ProcessBuilder(command).start();
        try {
            assertThat(cgroup).isInstanceOf(CgroupV1.class);
            await().atMost(Duration.ofSeconds(5)).until(() -> cgroup.processes().contains(burner.pid()));
            String procCgroup = Files.readString(Path.of("/proc", Long.toString(burner.pid()), "cgroup"));
            assertThat(procCgroup).contains("memory:" + path).contains("cpuacct:" + path);

            await().atMost(Duration.ofSeconds(10)).until(() -> cgroup.usage().memoryBytes() > 20_000_000); // its 20 MB, charged here
            Usage first = cgroup.usage();
            PodOverhead overhead = PodOverhead.start(new PodOverhead.Inputs() {
                @Override
                public Usage host() throws Exception {
                    return cgroup.usage();
                }

                @Override
                public Map<String, Usage> containers() {
                    return Map.of(); // no containers: all the burner's CPU is overhead
                }
            }, Duration.ofMillis(200));
            try {
                await().atMost(Duration.ofSeconds(10)).until(() -> overhead.latest().isPresent());
                // a busy loop is one CPU at most; on a loaded machine it gets less, but far more than nothing
                assertThat(overhead.latest().orElseThrow().cpuPercent()).isBetween(5.0, 105.0);
            } finally {
                overhead.close();
            }
            Usage later = cgroup.usage();
            assertThat(later.cpuNanos()).isGreaterThan(first.cpuNanos() + 50_000_000);
            assertThat(later.memoryBytes()).isGreaterThan(20_000_000);
        } finally {
            burner.destroyForcibly().waitFor();
            cgroup.remove();
        }
        for (String controller : new String[]{"cpu", "cpuacct", "memory"}) {
            assertThat(mounts.v1().get(controller).resolve(path.substring(1))).doesNotExist();
        }
        cgroup.remove(); // twice is no error
    }

    @Test
    void removingMovesWhatIsLeftToTheParent() throws Exception {
        String path = "/kata-shim-metrics-test-" + UUID.randomUUID().toString().substring(0, 8) + "/sandbox";
        HostCgroup cgroup = HostCgroup.create(path);
        Process sleeper = new ProcessBuilder("sleep", "30").start();
        try {
            cgroup.addProcess(sleeper.pid());
            assertThat(cgroup.processes()).containsExactly(sleeper.pid());
            cgroup.remove();
            assertThat(sleeper.isAlive()).isTrue();
            assertThat(Files.readString(Path.of("/proc", Long.toString(sleeper.pid()), "cgroup")))
                    .contains("memory:" + path.substring(0, path.lastIndexOf('/')) + "\n");
        } finally {
            sleeper.destroyForcibly().waitFor();
            String parent = path.substring(0, path.lastIndexOf('/'));
            for (Path mount : CgroupMounts.ofThisProcess().v1().values()) {
                Files.deleteIfExists(mount.resolve(parent.substring(1)));
            }
        }
    }

    @Test
    void aPathOutsideTheHierarchyIsRefused() {
        assertThatThrownBy(() -> HostCgroup.create("/")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> HostCgroup.create("/../../etc")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void readsCgroupV2UsageInNanoseconds() {
        String cpuStat = """
                usage_usec 1234567
                user_usec 1000000
                system_usec 234567
                nr_periods 0
                nr_throttled 0
                throttled_usec 0
                """;
        assertThat(CgroupV2.parseCpuStatUsageNanos(cpuStat)).isEqualTo(1_234_567_000L);
        assertThatThrownBy(() -> CgroupV2.parseCpuStatUsageNanos("user_usec 1\n")).hasMessageContaining("usage_usec");
    }

    @Test
    void tellsV1HybridAndV2HostsApartFromMountinfo() {
        CgroupMounts v2 = CgroupMounts.parse("""
                25 30 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
                28 25 0:25 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
                """);
        assertThat(v2.isV1()).isFalse();
        assertThat(v2.unified()).isEqualTo(Path.of("/sys/fs/cgroup"));
        CgroupMounts hybrid = CgroupMounts.parse("""
                31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
                32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
                35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
                41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
                """);
        assertThat(hybrid.isV1()).isTrue();
        assertThat(hybrid.v1()).containsEntry("cpu", Path.of("/sys/fs/cgroup/cpu,cpuacct"))
                .containsEntry("cpuacct", Path.of("/sys/fs/cgroup/cpu,cpuacct")).containsEntry("memory", Path.of("/sys/fs/cgroup/memory"));
        assertThat(HostCgroup.parseProcs("12\n345\n\n")).containsExactly(12L, 345L);
    }
}
