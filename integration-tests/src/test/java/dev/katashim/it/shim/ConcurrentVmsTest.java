package dev.katashim.it.shim;

import dev.katashim.it.support.BusyboxRootfs;
import dev.katashim.it.support.CommandResult;
import dev.katashim.it.support.PrivateContainerd;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static org.assertj.core.api.Assertions.assertThat;

/** Four VM sandboxes booted at once on this machine's two cores (TCG): each runs its container, and each leaves nothing. */
class ConcurrentVmsTest {
    private static final int VMS = 4;
    /** Four TCG guests share two cores: each boots several times slower than alone. */
    private static final Duration CROWDED_BOOT_DEADLINE = VmPod.BOOT_DEADLINE.multipliedBy(2);
    private static PrivateContainerd containerd;
    private static String rootfs;

    @BeforeAll
    static void start(@TempDir Path dir) {
        containerd = PrivateContainerd.builder().prependToPath(VmPod.repo().resolve("bin"))
                .environment("KATA_CONF_FILE", VmPod.kataConfig(dir, "virtio-9p").toString())
                .commandTimeout(CROWDED_BOOT_DEADLINE).start();
        rootfs = BusyboxRootfs.create(dir.resolve("rootfs")).path().toString();
    }

    @AfterAll
    static void stop() {
        if (containerd != null) {
            containerd.close();
        }
    }

    @Test
    void fourVmsAtOnceEachRunItsContainerAndLeaveNothing() throws Exception {
        List<String> ids = new ArrayList<>();
        List<Future<CommandResult>> runs = new ArrayList<>();
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < VMS; i++) {
                String id = containerd.uniqueId("vm" + i);
                ids.add(id);
                // the guest's kernel, not the host's: each ran in its own VM
                runs.add(pool.submit(() -> containerd.ctr("run", "--rm", "--runtime", VmPod.RUNTIME, "--rootfs", rootfs, id,
                        "/bin/sh", "-c", "echo " + id + " $(uname -r)")));
            }
            String hostKernel = System.getProperty("os.version");
            for (int i = 0; i < VMS; i++) {
                CommandResult run = await(ids.get(i), runs.get(i));
                assertThat(run.exitCode()).as("%s\n%s", run, containerd.log()).isZero();
                assertThat(run.stdout()).startsWith(ids.get(i) + " ").doesNotContain(hostKernel);
            }
        }
        for (String id : ids) {
            SandboxLeftovers.assertNone(containerd, id);
        }
    }

    private static CommandResult await(String id, Future<CommandResult> run) throws Exception {
        try {
            return run.get(CROWDED_BOOT_DEADLINE.toMillis() + 30_000, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new AssertionError("ctr run " + id + " did not return within " + CROWDED_BOOT_DEADLINE.toSeconds() + " s\n"
                    + containerd.log(), e);
        } catch (ExecutionException e) {
            throw new AssertionError("ctr run " + id + " failed: " + e.getCause(), e.getCause());
        }
    }
}
