package dev.katashim.it.shim;

import dev.katashim.it.support.LinuxProcess;
import dev.katashim.it.support.Processes;
import dev.katashim.it.support.PrivateContainerd;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * What a VM sandbox leaves on the host once it is gone: nothing. Checked while containerd still
 * runs, before any sweep: no process names the sandbox (its shim, QEMU, virtiofsd), no mount, no
 * host cgroup ({@code kata_overhead/<id>} in any hierarchy), no shim socket, no sandbox directory.
 * Sandbox ids are random, so whatever names one is this sandbox's.
 */
final class SandboxLeftovers {
    /** Teardown after a fault runs on the shim's and containerd's own time: generous. */
    static final Duration TEARDOWN_DEADLINE = Duration.ofSeconds(60);
    private static final Path CGROUP_ROOT = Path.of("/sys/fs/cgroup");

    private SandboxLeftovers() {
    }

    static void assertNone(PrivateContainerd containerd, String sandboxId) {
        Path sandboxDirectory = containerd.directory().resolve("sbs").resolve(sandboxId);
        await().atMost(TEARDOWN_DEADLINE).untilAsserted(() -> {
            assertThat(Processes.matching(p -> p.commandLine().contains(sandboxId)).stream().map(LinuxProcess::toString))
                    .as("processes naming sandbox %s", sandboxId).isEmpty();
            assertThat(Files.readAllLines(Path.of("/proc/self/mountinfo")).stream().filter(l -> l.contains(sandboxId)))
                    .as("mounts of sandbox %s", sandboxId).isEmpty();
            assertThat(cgroups(sandboxId)).as("host cgroups of sandbox %s", sandboxId).isEmpty();
            assertThat(containerd.shimSocket(sandboxId)).as("the shim's socket").doesNotExist();
            assertThat(sandboxDirectory).as("the sandbox directory").doesNotExist();
        });
    }

    /** {@code kata_overhead/<id>} in the v2 tree or any v1 hierarchy. */
    private static List<Path> cgroups(String sandboxId) throws IOException {
        List<Path> found = new ArrayList<>();
        try (Stream<Path> hierarchies = Files.list(CGROUP_ROOT)) {
            Stream.concat(Stream.of(CGROUP_ROOT), hierarchies.filter(Files::isDirectory).toList().stream())
                    .map(h -> h.resolve("kata_overhead").resolve(sandboxId)).filter(Files::exists).forEach(found::add);
        }
        return found;
    }
}
