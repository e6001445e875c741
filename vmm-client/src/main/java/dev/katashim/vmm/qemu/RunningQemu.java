package dev.katashim.vmm.qemu;

import dev.katashim.vmm.VmmExit;
import dev.katashim.vmm.qmp.QmpClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/** A QEMU process that came up, with its QMP connection, and the way to stop it for good. */
record RunningQemu(Process process, QmpClient qmp, SandboxFiles files, List<String> argv) {
    private static final Logger log = LoggerFactory.getLogger(RunningQemu.class);

    /** Its exit, if it has ended. */
    Optional<VmmExit> exit() {
        return process.isAlive() ? Optional.empty() : Optional.of(VmmExit.of(process.exitValue()));
    }

    /**
     * QMP {@code quit}, then SIGTERM after half the grace, then SIGKILL after the rest; returns once
     * the process is gone. A zero grace kills at once.
     */
    void stop(Duration grace) {
        long deadline = System.nanoTime() + grace.toNanos();
        try {
            if (process.isAlive() && !grace.isZero()) {
                try {
                    qmp.quit(Duration.ofMillis(Math.max(1, Math.min(grace.toMillis(), 2000))));
                } catch (IOException e) {
                    log.debug("QMP quit of pid {} failed: {}", process.pid(), e.getMessage());
                }
                if (!waitFor(System.nanoTime() + (deadline - System.nanoTime()) / 2)) {
                    log.info("QEMU pid {} did not quit within {} ms of QMP quit: SIGTERM", process.pid(), grace.toMillis() / 2);
                    process.destroy();
                    if (!waitFor(deadline)) {
                        log.warn("QEMU pid {} still alive {} ms after QMP quit and SIGTERM: SIGKILL", process.pid(), grace.toMillis());
                    }
                }
            }
            if (process.isAlive()) {
                process.destroyForcibly();
            }
            process.onExit().get(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            log.error("QEMU pid {} did not exit after SIGKILL: {}", process.pid(), e.toString());
        } finally {
            qmp.close();
            removeSockets();
        }
    }

    private boolean waitFor(long deadlineNanos) throws InterruptedException {
        return process.waitFor(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
    }

    /** QEMU unlinks its listening sockets on a clean exit, not when killed. */
    void removeSockets() {
        for (var socket : List.of(files.qmpSocket(), files.agentSocket())) {
            try {
                Files.deleteIfExists(socket);
            } catch (IOException e) {
                log.debug("cannot remove {}: {}", socket, e.toString());
            }
        }
    }
}
