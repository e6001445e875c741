package dev.katashim.it.shim;

import dev.katashim.it.shim.KataConfigs.GuestRootKind;
import dev.katashim.it.support.BusyboxRootfs;
import dev.katashim.it.support.CommandResult;
import dev.katashim.it.support.PrivateContainerd;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Each way the guest image can be the guest's root, through containerd and the shim in a real VM:
 * root.img on virtio-pmem (the default: mounted with DAX, the guest runs its files from the host's
 * page cache), root.img on virtio-blk, and the whole initramfs. A container runs in the guest kernel
 * with each; with virtio-pmem, QEMU must hold the image's pages mapped (what the guest read in place).
 */
class GuestRootsInVmTest {
    private static final String RUNTIME = "io.containerd.kata.v2";
    private static final int AGENT_DIAL_TIMEOUT_SECONDS = 300;
    /** A ctr run that boots a VM under TCG on a loaded machine: the dial timeout, then the container's work. */
    private static final Duration CTR_RUN_DEADLINE = Duration.ofSeconds(AGENT_DIAL_TIMEOUT_SECONDS).plusMinutes(2);
    /** The guest's agent JVM alone reads more than this of the image (libjvm, its modules, the CDS archive). */
    private static final long MIN_IMAGE_MAPPED_KIB = 16 * 1024;
    private static final Pattern MAPPING_HEADER = Pattern.compile("[0-9a-f]+-[0-9a-f]+ ");

    @ParameterizedTest
    @EnumSource(GuestRootKind.class)
    void aContainerRunsInTheGuestBootedFromEachRoot(GuestRootKind root, @TempDir Path dir) throws Exception {
        Path repo = Path.of("").toAbsolutePath().getParent();
        Path image = KataConfigs.guestImage(repo);
        assertThat(image.resolve("root.img")).as("the guest image (scripts/setup builds it)").exists();
        Path config = KataConfigs.qemu(dir, repo, new KataConfigs.Guest(KataConfigs.DEFAULT_KERNEL, root,
                KataConfigs.DEFAULT_MEMORY_MIB, "virtio-9p", KataConfigs.DEFAULT_RECLAIM_FREED_MEMORY), "", AGENT_DIAL_TIMEOUT_SECONDS);
        try (PrivateContainerd containerd = PrivateContainerd.builder().prependToPath(repo.resolve("bin"))
                .environment("KATA_CONF_FILE", config.toString()).start()) {
            String rootfs = BusyboxRootfs.create(dir.resolve("rootfs")).path().toString();
            String id = containerd.uniqueId("root");
            CommandResult run = containerd.ctrWithInput(new byte[0], CTR_RUN_DEADLINE, "run", "-d", "--runtime", RUNTIME,
                    "--rootfs", rootfs, id, "/bin/sh", "-c", "while :; do sleep 1; done");
            assertThat(run.exitCode()).as(root + ": " + run + "\n" + containerd.log()).isZero();
            CommandResult uname = containerd.ctrWithInput(new byte[0], CTR_RUN_DEADLINE, "task", "exec", "--exec-id", "u", id, "/bin/uname", "-r");
            assertThat(uname.stdout().trim()).as(root + ": " + uname).isEqualTo(kernelRelease(image));

            long qemuPid = Long.parseLong(Files.readString(containerd.directory().resolve("sbs").resolve(id).resolve("hypervisor.pid")).trim());
            long mappedKib = mappedKib(qemuPid, image.resolve("root.img"));
            if (root == GuestRootKind.VIRTIO_PMEM) {
                assertThat(mappedKib).as("KiB of root.img in QEMU's memory (read by the guest in place)").isGreaterThan(MIN_IMAGE_MAPPED_KIB);
            } else {
                assertThat(mappedKib).as(root + ": QEMU maps no root.img").isZero();
            }

            assertThat(containerd.ctr("task", "kill", "-s", "KILL", id).exitCode()).isZero();
            await().atMost(Duration.ofSeconds(60)).until(() -> !containerd.ctr("task", "ls").stdout().contains(id + " ")
                    || containerd.ctr("task", "ls").stdout().lines().anyMatch(l -> l.startsWith(id + " ") && l.contains("STOPPED")));
            containerd.ctr("task", "rm", id);
            assertThat(containerd.ctr("c", "rm", id).exitCode()).isZero();
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                assertThat(containerd.directory().resolve("sbs").resolve(id)).doesNotExist();
                assertThat(ProcessHandle.of(qemuPid).filter(ProcessHandle::isAlive)).as("QEMU " + qemuPid).isEmpty();
            });
        }
    }

    private static String kernelRelease(Path image) throws IOException {
        return Files.readAllLines(image.resolve("manifest")).stream().filter(l -> l.startsWith("kernel_release "))
                .map(l -> l.substring("kernel_release ".length()).trim()).findFirst().orElseThrow();
    }

    /** The resident KiB of {@code file}'s mappings in process {@code pid} (/proc/PID/smaps). */
    private static long mappedKib(long pid, Path file) throws IOException {
        List<String> lines = Files.readAllLines(Path.of("/proc/" + pid + "/smaps"));
        long kib = 0;
        boolean inFile = false;
        for (String line : lines) {
            if (MAPPING_HEADER.matcher(line).lookingAt()) { // "start-end perms offset dev inode path"
                inFile = line.endsWith(" " + file);
            } else if (inFile && line.startsWith("Rss:")) {
                kib += Long.parseLong(line.replaceAll("\\D+", ""));
            }
        }
        return kib;
    }
}
