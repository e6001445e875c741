package dev.katashim.agent.guest.container;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Each increase of the kernel's oom_kill counter is reported once, as that many kills. */
class OomKillsTest {

    private static void v2(Path dir, int kills) throws Exception {
        Files.writeString(dir.resolve("memory.events"),
                "low 0\nhigh 0\nmax 12\noom 3\noom_kill " + kills + "\noom_group_kill 0\n");
    }

    @Test
    void cgroupV2CountsAreReportedOnceEach(@TempDir Path dir) throws Exception {
        OomKills kills = new OomKills(List.of(dir.resolve("absent-hierarchy"), dir));
        assertThat(kills.takeNew()).as("no file yet: the cgroup is not made").isZero();
        v2(dir, 0);
        assertThat(kills.takeNew()).isZero();
        v2(dir, 1);
        assertThat(kills.takeNew()).isEqualTo(1);
        assertThat(kills.takeNew()).as("read again, nothing new").isZero();
        v2(dir, 3);
        assertThat(kills.takeNew()).isEqualTo(2);
        Files.delete(dir.resolve("memory.events"));
        assertThat(kills.takeNew()).as("the cgroup is gone").isZero();
    }

    @Test
    void cgroupV1ReadsMemoryOomControl(@TempDir Path dir) throws Exception {
        OomKills kills = new OomKills(List.of(dir));
        Files.writeString(dir.resolve("memory.oom_control"), "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n");
        assertThat(kills.takeNew()).isEqualTo(2);
        assertThat(kills.takeNew()).isZero();
    }
}
