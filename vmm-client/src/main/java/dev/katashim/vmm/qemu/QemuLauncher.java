package dev.katashim.vmm.qemu;

import dev.katashim.vmm.DiesWithParent;
import dev.katashim.vmm.VmmExit;
import dev.katashim.vmm.qmp.QmpClient;
import dev.katashim.vmm.qmp.QmpEvent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Starts one QEMU process and connects to its QMP socket: the point from which it can be
 * controlled. QEMU's stdout and stderr go to {@code qemu.log} in the sandbox directory (never a
 * pipe that could fill up); when QEMU exits before QMP answers, the error carries that output.
 */
final class QemuLauncher {
    private static final Logger log = LoggerFactory.getLogger(QemuLauncher.class);

    private QemuLauncher() {
    }

    /**
     * Starts QEMU with {@code argv}, through {@code launchPrefix} (a command that puts it in the
     * sandbox's host cgroup before it execs QEMU, so that every page it touches is charged there;
     * empty: none).
     */
    static RunningQemu launch(List<String> launchPrefix, List<String> argv, SandboxFiles files, Duration timeout,
                              Consumer<QmpEvent> events) throws IOException {
        Path qemu = Path.of(argv.getFirst());
        for (Path stale : List.of(files.qmpSocket(), files.agentSocket(), files.pidFile())) {
            Files.deleteIfExists(stale);
        }
        log.debug("starting {}", String.join(" ", argv));
        Process process;
        try {
            // QEMU must not outlive a killed shim: it gets SIGKILL when the shim's JVM dies
            process = DiesWithParent.start(new ProcessBuilder(prefixed(launchPrefix, argv))
                    .directory(files.dir().toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(files.qemuLog().toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))), QemuPrivileges.SETPRIV_OPTIONS);
        } catch (IOException e) {
            throw new IOException("cannot run QEMU " + qemu + ": " + e.getMessage(), e);
        }
        try {
            QmpClient qmp = connectQmp(process, qemu, files, timeout, events);
            return new RunningQemu(process, qmp, files, argv);
        } catch (IOException | RuntimeException e) {
            kill(process);
            throw e;
        } catch (InterruptedException e) {
            kill(process);
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted starting QEMU " + qemu);
        }
    }

    private static List<String> prefixed(List<String> prefix, List<String> argv) {
        List<String> command = new java.util.ArrayList<>(prefix);
        command.addAll(argv);
        return command;
    }

    private static QmpClient connectQmp(Process process, Path qemu, SandboxFiles files, Duration timeout,
                                        Consumer<QmpEvent> events) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        IOException last = null;
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw exited(process, qemu, files);
            }
            if (Files.exists(files.qmpSocket())) {
                try {
                    return QmpClient.connect(files.qmpSocket(), Duration.ofNanos(Math.max(1, deadline - System.nanoTime())), events);
                } catch (IOException e) {
                    last = e;
                    if (process.waitFor(50, TimeUnit.MILLISECONDS)) {
                        throw exited(process, qemu, files);
                    }
                }
            } else {
                Thread.sleep(5);
            }
        }
        throw new QemuStartException("QEMU " + qemu + " (pid " + process.pid() + ") did not answer on its QMP socket "
                + files.qmpSocket() + " within " + timeout.toMillis() + " ms"
                + (last == null ? "" : " (" + last.getMessage() + ")") + "; its output (" + files.qemuLog() + "):\n"
                + ProcessOutput.tail(files.qemuLog()), java.util.Optional.empty(), ProcessOutput.tail(files.qemuLog()));
    }

    private static QemuStartException exited(Process process, Path qemu, SandboxFiles files) throws InterruptedException {
        process.waitFor();
        return QemuStartException.exited(qemu, VmmExit.of(process.exitValue()), files.qemuLog(), ProcessOutput.tail(files.qemuLog()));
    }

    private static void kill(Process process) {
        process.destroyForcibly();
        try {
            process.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
