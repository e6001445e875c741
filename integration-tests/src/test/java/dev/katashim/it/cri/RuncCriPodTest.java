package dev.katashim.it.cri;

import dev.katashim.cri.CriClient;
import dev.katashim.cri.v1.ContainerState;
import dev.katashim.cri.v1.ExecSyncResponse;
import dev.katashim.cri.v1.PodSandboxConfig;
import dev.katashim.cri.v1.PodSandboxState;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The same CRI node with handler {@code runc}, the baseline the {@code kata} handler is held to (and
 * what scripts/bench-cri compares with): a pod from the imported images, ExecSync, its log, and a
 * removal that leaves nothing, runc's state kept in the node's own directory.
 */
class RuncCriPodTest {
    private static final Duration DEADLINE = Duration.ofSeconds(60);
    private static CriNode node;
    private static CriClient cri;

    @BeforeAll
    static void start() {
        node = CriNode.builder(Path.of("").toAbsolutePath().getParent()).start();
        cri = node.cri();
    }

    @AfterAll
    static void stop() {
        if (node != null) {
            node.close();
        }
    }

    @Test
    void aRuncPodRunsExecsLogsAndLeavesNothingWhenRemoved() {
        PodSandboxConfig config = node.pod("plain").build();
        String pod = cri.runPodSandbox(config, CriNode.RUNC);
        assertThat(cri.podSandboxStatus(pod).getStatus().getState()).isEqualTo(PodSandboxState.SANDBOX_READY);
        String app = cri.createContainer(pod, CriNode.container("app", "/bin/sh", "-c", "echo started; while :; do sleep 1; done").build(), config);
        cri.startContainer(app);
        assertThat(cri.containerStatus(app).getState()).isEqualTo(ContainerState.CONTAINER_RUNNING);
        ExecSyncResponse result = cri.execSync(app, DEADLINE, "/bin/sh", "-c", "echo out; exit 3");
        assertThat(result.getStdout().toStringUtf8()).isEqualTo("out\n");
        assertThat(result.getExitCode()).isEqualTo(3);
        await().atMost(DEADLINE).untilAsserted(() ->
                assertThat(node.logDirectory("plain").resolve("app.log")).content().contains("stdout F started"));
        cri.stopPodSandbox(pod);
        cri.removePodSandbox(pod);
        await().atMost(DEADLINE).ignoreExceptions().untilAsserted(() -> {
            assertThat(PodLeftovers.of(node, pod)).isEmpty();
            assertThat(PodLeftovers.of(node, app)).isEmpty();
        });
    }
}
