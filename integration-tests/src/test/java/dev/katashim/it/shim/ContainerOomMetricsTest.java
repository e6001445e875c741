package dev.katashim.it.shim;

import dev.katashim.it.support.BusyboxRootfs;
import dev.katashim.it.support.PrivateContainerd;
import dev.katashim.metrics.server.HttpClient;
import dev.katashim.metrics.support.StrictPrometheusText;
import dev.katashim.metrics.support.StrictPrometheusText.Family;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A container whose memory-hungry child is OOM-killed while the container goes on (no-VM sandbox,
 * a real containerd, a real cgroup limit): {@code kata_container_oom_events_total} says so, and the
 * container's memory figures stay under its limit.
 */
class ContainerOomMetricsTest {
    /** The container samples come every 10 s; an OOM kill and its event take a moment more, both cores busy. */
    private static final Duration SAMPLE_DEADLINE = Duration.ofSeconds(60);
    private static final long LIMIT = 32L << 20;

    @Test
    void anOomKillInARunningContainerIsCounted(@TempDir Path dir) throws Exception {
        Path repo = Path.of("").toAbsolutePath().getParent();
        try (PrivateContainerd containerd = PrivateContainerd.builder().prependToPath(repo.resolve("bin"))
                .environment("KATA_CONF_FILE", KataConfigs.noVm(dir).toString()).start()) {
            String rootfs = BusyboxRootfs.create(dir.resolve("rootfs")).path().toString();
            String id = containerd.uniqueId("oom");
            assertThat(containerd.ctr("run", "-d", "--runtime", "io.containerd.kata.v2", "--memory-limit", Long.toString(LIMIT),
                    "--rootfs", rootfs, id, "/bin/sh", "-c",
                    "sleep 2; sh -c 'x=aaaaaaaa; while true; do x=$x$x; done'; echo survived; sleep 600").exitCode()).isZero();
            Path socket = containerd.directory().resolve("sbs").resolve(id).resolve("shim-monitor.sock");
            Map<String, Family> families = await().atMost(SAMPLE_DEADLINE).until(() -> StrictPrometheusText.parse(
                            HttpClient.getBlocking(socket, "/metrics", "text/plain", Duration.ofSeconds(10)).body()),
                    f -> f.containsKey("kata_container_oom_events_total")
                            && f.get("kata_container_oom_events_total").value("container_id", id) >= 1);
            assertThat(families.get("kata_container_oom_events_total").value("container_id", id)).isEqualTo(1);
            assertThat(families.get("kata_container_memory_usage_bytes").value("container_id", id)).isLessThanOrEqualTo(LIMIT);
            assertThat(containerd.ctr("task", "ls").stdout()).contains(id).contains("RUNNING");
            containerd.ctr("task", "kill", "-s", "KILL", id);
        }
    }
}
