package dev.katashim.it.shim;

import dev.katashim.it.support.CommandResult;
import dev.katashim.it.support.LinuxProcess;
import dev.katashim.it.support.Processes;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static dev.katashim.it.shim.VmPod.VM_DEADLINE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code shared_fs = "virtio-fs"} end to end with the shipped guest image: the shim runs virtiofsd
 * (Debian's, from qemu-system-common) on the sandbox's shared directory, the guest's /init mounts
 * it, containers run from root filesystems on it and see host volumes through it, also those
 * bound after virtiofsd started (the shared directory is a shared mount). One pod VM; its end,
 * last, takes virtiofsd with it.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class VirtioFsEndToEndTest {
    private static VmPod pod;
    private static Path hostDir;
    private static Path hostFile;
    private static Path dir;

    @BeforeAll
    static void startAPod(@TempDir Path tempDir) throws Exception {
        dir = tempDir;
        hostDir = Files.createDirectories(dir.resolve("volume"));
        Files.writeString(hostDir.resolve("from-host"), "written on the host\n");
        hostFile = Files.writeString(dir.resolve("settings.conf"), "setting=1\n");
        pod = VmPod.start(dir, VmPod.kataConfig(dir, "virtio-fs"),
                "--mount", "type=bind,src=" + hostDir + ",dst=/vol,options=rbind:rw",
                "--mount", "type=bind,src=" + hostFile + ",dst=/etc/settings.conf,options=rbind:ro");
    }

    @AfterAll
    static void stop() {
        if (pod != null) {
            pod.close();
        }
    }

    private static List<LinuxProcess> virtiofsd() {
        return Processes.matching(p -> p.commandLine().contains("virtiofsd") && p.commandLine().contains(pod.sandboxDirectory().toString()));
    }

    @Test
    @Order(1)
    void theContainersRootAndItsVolumesComeOverVirtioFs() throws Exception {
        assertThat(virtiofsd()).as("virtiofsd serving the sandbox").isNotEmpty();
        CommandResult mounts = pod.exec(pod.id, "cat /proc/self/mounts");
        assertThat(mounts.stdout()).as(mounts.toString()).containsPattern("(?m)^\\S+ / virtiofs ")
                .containsPattern("(?m)^\\S+ /vol virtiofs ").containsPattern("(?m)^\\S+ /etc/settings.conf virtiofs ro,");

        CommandResult read = pod.exec(pod.id, "cat /vol/from-host; echo from the guest > /vol/from-guest; cat /etc/settings.conf");
        assertThat(read.exitCode()).as(read.toString()).isZero();
        assertThat(read.stdout()).isEqualTo("written on the host\nsetting=1\n");
        assertThat(hostDir.resolve("from-guest")).content().isEqualTo("from the guest\n");

        CommandResult write = pod.exec(pod.id, "echo setting=2 > /etc/settings.conf");
        assertThat(write.exitCode()).isNotZero();
        assertThat(write.stdout() + write.stderr()).contains("Read-only file system");
        assertThat(hostFile).content().isEqualTo("setting=1\n");

        Files.writeString(hostDir.resolve("later"), "changed on the host\n");
        await().atMost(VM_DEADLINE).untilAsserted(() -> assertThat(pod.exec(pod.id, "cat /vol/later").stdout()).isEqualTo("changed on the host\n"));
    }

    @Test
    @Order(2)
    void aMemberStartedLaterReachesItsVolumeThroughTheRunningDaemon() throws Exception {
        Path second = Files.createDirectories(dir.resolve("second"));
        Files.writeString(second.resolve("note"), "for the member\n");
        String member = pod.startMember("app", "--mount", "type=bind,src=" + second + ",dst=/data,options=rbind:rw");
        CommandResult read = pod.exec(member, "cat /data/note; echo back > /data/reply");
        assertThat(read.exitCode()).as(read + "\n" + pod.containerd.log()).isZero();
        assertThat(read.stdout()).isEqualTo("for the member\n");
        assertThat(second.resolve("reply")).content().isEqualTo("back\n");
        pod.stopMember(member);
    }

    @Test
    @Order(3)
    void thePodsEndTakesVirtiofsdWithItAndLeavesNothing() {
        assertThat(pod.ctr("task", "kill", "-s", "KILL", pod.id).exitCode()).isZero();
        await().atMost(VM_DEADLINE).until(() -> pod.ctr("task", "rm", pod.id).exitCode() == 0);
        assertThat(pod.ctr("c", "rm", pod.id).exitCode()).isZero();
        SandboxLeftovers.assertNone(pod.containerd, pod.id);
        assertThat(virtiofsd()).isEmpty();
    }
}
