package dev.katashim.it.shim;

import dev.katashim.it.support.LinuxProcess;
import dev.katashim.it.support.Processes;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What a shim driven by {@link Containerd2Driver} may leave: nothing once it is done. Every process
 * it starts (the serving JVM, the host agent, QEMU) names the test's own temp dir on its command
 * line, which is how they are found; none is looked up by a broad name.
 */
final class DriverLeftovers {
    private DriverLeftovers() {
    }

    static List<LinuxProcess> processesUnder(Path dir) {
        return Processes.matching(p -> p.commandLine().contains(dir.toString()));
    }

    /** No process, no shim socket, no sandbox directory: waits a little for processes that are exiting. */
    static void assertNone(Path dir, Path socket, Path sandboxDirectory) throws InterruptedException {
        List<Long> alive = Processes.awaitGone(processesUnder(dir).stream().map(LinuxProcess::pid).toList(), Duration.ofSeconds(20));
        assertThat(alive).as("processes left running: %s", processesUnder(dir)).isEmpty();
        assertThat(socket).as("the shim's socket").doesNotExist();
        assertThat(sandboxDirectory).as("the sandbox directory").doesNotExist();
    }

    /** After a failed test: ends what it started (found as above), so that the next test starts clean. */
    static void killAll(Path dir) {
        Processes.killTrees(processesUnder(dir).stream().map(LinuxProcess::pid).toList());
    }
}
