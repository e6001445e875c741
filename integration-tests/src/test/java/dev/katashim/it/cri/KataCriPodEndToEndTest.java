package dev.katashim.it.cri;

import dev.katashim.cri.CriClient;
import dev.katashim.cri.v1.ContainerState;
import dev.katashim.cri.v1.ExecSyncResponse;
import dev.katashim.cri.v1.PodSandboxConfig;
import dev.katashim.cri.v1.PodSandboxState;
import dev.katashim.cri.v1.PodSandboxStatusResponse;
import dev.katashim.it.shim.KataConfigs;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Pods through containerd's CRI plugin, as kubelet drives them, with runtime handler {@code kata}:
 * our shim boots a QEMU VM (TCG here) for the pod's sandbox container and runs its containers in it.
 * One pod serves most tests (each boot costs ~20 s under TCG); tests that end a pod run their own.
 */
class KataCriPodEndToEndTest {
    /** What a TCG guest on a loaded two-core machine may take for what it does on its own time. */
    static final Duration GUEST_DEADLINE = Duration.ofSeconds(90);
    /** How long the shim waits for a booting guest's agent: TCG boots took over 120 s with other guests beside. */
    static final int AGENT_DIAL_TIMEOUT_SECONDS = 200;
    private static CriNode node;
    private static CriClient cri;
    private static PodSandboxConfig podConfig;
    private static String pod;
    private static String app;
    private static Path repo;

    @BeforeAll
    static void startAPod(@TempDir Path dir) {
        repo = Path.of("").toAbsolutePath().getParent();
        assertThat(KataConfigs.guestImage(repo).resolve("initramfs.img"))
                .as("the guest image (scripts/setup builds it with scripts/build-guest-image)").exists();
        node = CriNode.builder(repo)
                .kataHandler(CriNode.KATA, KataConfigs.qemu(dir, repo, "", AGENT_DIAL_TIMEOUT_SECONDS))
                .start();
        cri = node.cri();
        podConfig = node.pod("web").build();
        pod = cri.runPodSandbox(podConfig, CriNode.KATA);
        app = cri.createContainer(pod, CriNode.container("app", "/bin/sh", "-c",
                "echo started; while :; do sleep 1; done").build(), podConfig);
        cri.startContainer(app);
    }

    @AfterAll
    static void stop() {
        if (node != null) {
            node.close();
        }
    }

    @Test
    void thePodIsReadyAndItsContainerRunsInTheGuestKernel() throws Exception {
        PodSandboxStatusResponse status = cri.podSandboxStatus(pod);
        assertThat(status.getStatus().getState()).isEqualTo(PodSandboxState.SANDBOX_READY);
        assertThat(status.getStatus().getRuntimeHandler()).isEqualTo(CriNode.KATA);
        assertThat(cri.containerStatus(app).getState()).isEqualTo(ContainerState.CONTAINER_RUNNING);
        ExecSyncResponse uname = cri.execSync(app, Duration.ofSeconds(60), "uname", "-r");
        assertThat(uname.getExitCode()).isZero();
        assertThat(uname.getStdout().toString(StandardCharsets.UTF_8).trim())
                .isNotEqualTo(Files.readString(Path.of("/proc/sys/kernel/osrelease")).trim());
    }

    @Test
    void execSyncReturnsOutputAndExitCode() {
        ExecSyncResponse result = cri.execSync(app, Duration.ofSeconds(60), "/bin/sh", "-c", "echo out; echo err >&2; exit 3");
        assertThat(result.getStdout().toString(StandardCharsets.UTF_8)).isEqualTo("out\n");
        assertThat(result.getStderr().toString(StandardCharsets.UTF_8)).isEqualTo("err\n");
        assertThat(result.getExitCode()).isEqualTo(3);
    }
}
