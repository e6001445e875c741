package dev.katashim.shim.io;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * Who the stdio belongs to, and the few knobs of the {@code binary://} logger.
 *
 * @param namespace containerd namespace; a binary logger gets it as {@code CONTAINER_NAMESPACE}
 * @param containerId container id; a binary logger gets it as {@code CONTAINER_ID} (also for execs, as upstream)
 * @param execId containerd exec id, or "" for the container's init process; only used in thread names and logs
 * @param scratchDir where the private 0700 directory for the logger's FIFOs is made (removed again once the
 *     logger has opened them)
 * @param loggerReadyTimeout how long to wait for the logger's readiness byte on fd 5. Upstream waits forever
 *     while holding the service lock; a bound turns a wedged logger into a failed Create instead
 * @param loggerStopGrace time between SIGTERM and SIGKILL when the logger is stopped (upstream: 12 s)
 */
public record IoContext(
        String namespace,
        String containerId,
        String execId,
        Path scratchDir,
        Duration loggerReadyTimeout,
        Duration loggerStopGrace) {

    public static final Duration DEFAULT_LOGGER_READY_TIMEOUT = Duration.ofSeconds(30);
    public static final Duration DEFAULT_LOGGER_STOP_GRACE = Duration.ofSeconds(12);

    public IoContext {
        Objects.requireNonNull(namespace, "namespace");
        Objects.requireNonNull(containerId, "containerId");
        Objects.requireNonNull(execId, "execId");
        Objects.requireNonNull(scratchDir, "scratchDir");
        requirePositive(loggerReadyTimeout, "loggerReadyTimeout");
        requirePositive(loggerStopGrace, "loggerStopGrace");
    }

    /** The init process of a container, with the default temp dir and upstream's timings. */
    public IoContext(String namespace, String containerId) {
        this(namespace, containerId, "", Path.of(System.getProperty("java.io.tmpdir")),
                DEFAULT_LOGGER_READY_TIMEOUT, DEFAULT_LOGGER_STOP_GRACE);
    }

    public IoContext forExec(String execId) {
        return new IoContext(namespace, containerId, execId, scratchDir, loggerReadyTimeout, loggerStopGrace);
    }

    public IoContext withScratchDir(Path dir) {
        return new IoContext(namespace, containerId, execId, dir, loggerReadyTimeout, loggerStopGrace);
    }

    public IoContext withLoggerTimeouts(Duration readyTimeout, Duration stopGrace) {
        return new IoContext(namespace, containerId, execId, scratchDir, readyTimeout, stopGrace);
    }

    /** "container" or "container/exec", for thread names and log lines. */
    String label() {
        return execId.isEmpty() ? containerId : containerId + "/" + execId;
    }

    private static void requirePositive(Duration d, String name) {
        Objects.requireNonNull(d, name);
        if (d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(name + " must be positive, got " + d);
        }
    }
}
