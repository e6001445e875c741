package dev.katashim.it.shim;

import dev.katashim.it.support.BusyboxRootfs;
import dev.katashim.it.support.CommandResult;
import dev.katashim.it.support.PrivateContainerd;
import dev.katashim.metrics.server.HttpClient;
import dev.katashim.metrics.support.StrictPrometheusText;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Containers in QEMU VMs (TCG on the build machines) through containerd and our shim, booting the
 * guest image scripts/setup builds. Each test that runs a container boots its own VM.
 */
class KataQemuEndToEndTest {
    static final String RUNTIME = "io.containerd.kata.v2";
    /** How long to wait for what a VM under TCG does on its own time: generous, for a loaded machine. */
    private static final Duration UNDER_LOAD_DEADLINE = Duration.ofSeconds(60);
    /**
     * How long the shim waits for the guest's agent (dial_timeout): a TCG guest with one vCPU boots
     * in 30-50 s on a loaded 2-core machine, and took over 120 s while other TCG guests ran beside it.
     */
    private static final int AGENT_DIAL_TIMEOUT_SECONDS = 300;
    /** A ctr run that boots a VM: the agent's dial timeout, then the container's own work. */
    private static final Duration CTR_RUN_DEADLINE = Duration.ofSeconds(AGENT_DIAL_TIMEOUT_SECONDS).plusMinutes(2);
    private static PrivateContainerd containerd;
    private static String rootfs;
    private static Path repo;

    @BeforeAll
    static void start(@TempDir Path dir) {
        repo = Path.of("").toAbsolutePath().getParent();
        assertThat(KataConfigs.guestImage(repo).resolve("initramfs.img"))
                .as("the guest image (scripts/setup builds it with scripts/build-guest-image)").exists();
        containerd = PrivateContainerd.builder().prependToPath(repo.resolve("bin"))
                .environment("KATA_CONF_FILE", KataConfigs.qemu(dir, repo, "", AGENT_DIAL_TIMEOUT_SECONDS).toString()).start();
        rootfs = BusyboxRootfs.create(dir.resolve("rootfs")).path().toString();
    }

    @AfterAll
    static void stop() {
        if (containerd != null) {
            containerd.close();
        }
    }

    private static String guestKernelRelease() throws Exception {
        return Files.readAllLines(KataConfigs.guestImage(repo).resolve("manifest")).stream()
                .filter(l -> l.startsWith("kernel_release ")).map(l -> l.substring("kernel_release ".length()).trim())
                .findFirst().orElseThrow();
    }

    @Test
    void runsInTheGuestKernelAndReturnsTheExitCode() throws Exception {
        CommandResult result = containerd.ctrWithInput(new byte[0], CTR_RUN_DEADLINE, "run", "--rm", "--runtime", RUNTIME,
                "--rootfs", rootfs, containerd.uniqueId("vm"), "/bin/sh", "-c", "uname -r; exit 3");
        assertThat(result.exitCode()).as(result + "\n" + containerd.log()).isEqualTo(3);
        String release = result.stdout().trim();
        assertThat(release).isEqualTo(guestKernelRelease());
        assertThat(release).isNotEqualTo(Files.readString(Path.of("/proc/sys/kernel/osrelease")).trim());
    }

    @Test
    void metricsThenQemuKilledEndsTheContainerAndLeavesNothing() throws Exception {
        String id = containerd.uniqueId("vmd");
        CommandResult run = containerd.ctrWithInput(new byte[0], CTR_RUN_DEADLINE, "run", "-d", "--runtime", RUNTIME,
                "--rootfs", rootfs, id, "/bin/sh", "-c", "while :; do sleep 1; done");
        assertThat(run.exitCode()).as(run + "\n" + containerd.log()).isZero();
        assertThat(taskRow(id).get(2)).isEqualTo("RUNNING");

        CommandResult metrics = containerd.ctr("task", "metrics", id);
        assertThat(metrics.stdout()).contains("memory.usage_in_bytes").contains("pids.current");

        Path sandbox = containerd.directory().resolve("sbs").resolve(id);
        // A scrape leaves the agent's part out when the guest does not answer within the shim's agent
        // timeout (2 s), which a TCG guest on a loaded machine can miss: scrape until the part is there.
        AtomicReference<Map<String, StrictPrometheusText.Family>> scraped = new AtomicReference<>();
        await().atMost(UNDER_LOAD_DEADLINE).untilAsserted(() -> {
            HttpClient.Response scrape = HttpClient.getBlocking(sandbox.resolve("shim-monitor.sock"), "/metrics", "text/plain",
                    Duration.ofSeconds(20));
            scraped.set(StrictPrometheusText.parse(scrape.body()));
            assertThat(scraped.get().keySet())
                    .as("families (agent scrape errors: %s)", scraped.get().get("kata_shim_agent_metrics_scrape_errors_total"))
                    .anyMatch(n -> n.startsWith("kata_guest_"));
        });
        Map<String, StrictPrometheusText.Family> families = scraped.get();
        assertThat(families).containsKeys("kata_hypervisor_threads", "kata_hypervisor_proc_status", "kata_hypervisor_signals");
        assertThat(families).doesNotContainKey("kata_hypervisor_vcpu"); // TCG counts no vCPU exits: absent, not zero
        assertThat(families.get("kata_shim_sandbox_start_phase_seconds").labelValues("phase"))
                .contains("vm_boot", "agent_ready", "sandbox_create", "container_create", "container_start");

        long qemuPid = Long.parseLong(Files.readString(sandbox.resolve("hypervisor.pid")).trim());
        assertThat(Files.readString(Path.of("/proc/" + qemuPid + "/cmdline"))).contains("qemu-system-x86_64");
        ProcessHandle.of(qemuPid).orElseThrow().destroyForcibly();
        await().atMost(Duration.ofSeconds(30)).until(() -> taskRow(id).get(2).equals("STOPPED"));
        CommandResult rm = containerd.ctr("task", "rm", id);
        assertThat(rm.stderr()).contains("exit code 255");
        assertThat(containerd.ctr("c", "rm", id).exitCode()).isZero();
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
            assertThat(sandbox).doesNotExist();
            assertThat(ProcessHandle.allProcesses().filter(p -> p.info().commandLine().map(c -> c.contains(id)).orElse(false))
                    .map(p -> p.pid() + " " + p.info().commandLine().orElse("")).toList()).isEmpty();
            assertThat(Files.readString(Path.of("/proc/self/mountinfo"))).doesNotContain(id);
        });
    }

    private static List<String> taskRow(String id) {
        CommandResult ls = containerd.ctr("task", "ls");
        return ls.stdout().lines().filter(l -> l.startsWith(id + " ")).findFirst()
                .map(l -> Arrays.asList(l.trim().split("\\s+"))).orElse(List.of(id, "0", "GONE"));
    }
}
