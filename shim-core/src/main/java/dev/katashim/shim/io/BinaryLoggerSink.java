package dev.katashim.shim.io;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code binary:///path/to/logger?k=v}: containerd's logging-binary protocol. The logger reads stdout on fd 3 and
 * stderr on fd 4, writes one byte to (or closes) fd 5 when ready, and gets only {@code CONTAINER_ID} and
 * {@code CONTAINER_NAMESPACE} in its environment.
 *
 * <p>ProcessBuilder only places fds 0-2, so {@code /bin/sh} places the others and then execs the logger through
 * {@code env -i} (one pid all along, so our signals reach the logger). fds 3 and 4 come from two FIFOs in a
 * private 0700 directory, deleted once the logger is ready; fd 5 is the child's stdout pipe. Our ends of the data
 * FIFOs are write-only FileChannels: closing the channel releases a blocked write, and a dead logger makes
 * writes fail (EPIPE) instead of blocking forever.
 */
final class BinaryLoggerSink implements OutputSink {
    private static final Logger LOG = LoggerFactory.getLogger(BinaryLoggerSink.class);

    // $1, $2: the FIFOs; then the logger and its arguments. fd 0 is /dev/null (ProcessBuilder), fds 1 and 2 end
    // on /dev/null, as with Go's exec.Cmd. env -i: shells add variables of their own (dash PWD, bash SHLVL).
    private static final String PLACE_FDS = "exec 3<\"$1\" 4<\"$2\" 5>&1 1>/dev/null; shift 2; exec /usr/bin/env -i"
            + " \"CONTAINER_ID=$CONTAINER_ID\" \"CONTAINER_NAMESPACE=$CONTAINER_NAMESPACE\" \"$@\"";

    private final Path executable;
    private final Process process;
    private final FileChannel out;
    private final FileChannel err;
    private final ByteSink stdout;
    private final ByteSink stderr;
    private final Duration stopGrace;

    private BinaryLoggerSink(Path executable, Process process, FileChannel out, FileChannel err,
            Duration stopGrace) {
        this.executable = executable;
        this.process = process;
        this.out = out;
        this.err = err;
        this.stdout = ByteSink.serialized(out, new Object());
        this.stderr = ByteSink.serialized(err, new Object());
        this.stopGrace = stopGrace;
    }

    static BinaryLoggerSink start(OutputTarget.BinaryLogger target, IoContext ctx) throws IOException {
        Path exe = target.executable();
        if (!Files.isRegularFile(exe) || !Files.isExecutable(exe)) {
            throw new IOException("failed to start binary logger " + exe + ": not an executable file");
        }
        if (exe.toString().indexOf('=') >= 0) {
            // env(1) would read it as a variable assignment
            throw new IOException("failed to start binary logger " + exe + ": '=' in its path is not supported");
        }
        Path dir = Files.createTempDirectory(ctx.scratchDir(), "kata-logger-",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Path outFifo = dir.resolve("stdout");
        Path errFifo = dir.resolve("stderr");
        FileChannel out = null;
        FileChannel err = null;
        Process process = null;
        try {
            Fifos.mkfifo(outFifo, errFifo);
            // Our write ends exist before the logger opens its read ends, so neither side waits for the other.
            out = Fifos.openWriteOnly(outFifo, "logger stdout");
            err = Fifos.openWriteOnly(errFifo, "logger stderr");

            List<String> command = new ArrayList<>(List.of("/bin/sh", "-c", PLACE_FDS, "kata-logger",
                    outFifo.toString(), errFifo.toString(), exe.toString()));
            command.addAll(target.args());
            ProcessBuilder builder = new ProcessBuilder(command)
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectError(ProcessBuilder.Redirect.DISCARD);
            builder.environment().clear();
            builder.environment().put("CONTAINER_ID", ctx.containerId());
            builder.environment().put("CONTAINER_NAMESPACE", ctx.namespace());
            process = builder.start();

            awaitReady(process, exe, ctx.loggerReadyTimeout());
            LOG.debug("binary logger {} (pid {}) ready for {}", exe, process.pid(), ctx.label());
            return new BinaryLoggerSink(exe, process, out, err, ctx.loggerStopGrace());
        } catch (IOException | RuntimeException e) {
            Closeables.closeQuietly(out);
            Closeables.closeQuietly(err);
            if (process != null) {
                process.destroyForcibly();
                Closeables.closeQuietly(process.getInputStream());
            }
            throw e;
        } finally {
            // Once the logger runs, its fds 3 and 4 hold the FIFOs; the names are no longer needed.
            for (Path p : List.of(outFifo, errFifo, dir)) {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    LOG.warn("cannot remove {}: {}", p, e.toString());
                }
            }
        }
    }

    /** Upstream: one byte on fd 5, or its close (EOF), means ready. */
    private static void awaitReady(Process process, Path exe, Duration timeout) throws IOException {
        InputStream ready = process.getInputStream();
        CompletableFuture<Integer> signal = new CompletableFuture<>();
        // A virtual thread is fine here: it never needs interrupting; killing the logger ends its read with EOF.
        Thread.ofVirtual().name("kata-logger-ready-" + process.pid()).start(() -> {
            try {
                signal.complete(ready.read());
            } catch (IOException e) {
                signal.completeExceptionally(e);
            }
        });
        try {
            signal.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new IOException("binary logger " + exe + " did not signal readiness on fd 5 within " + timeout);
        } catch (ExecutionException e) {
            throw new IOException("failed to read from binary logger " + exe + ": " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting for binary logger " + exe);
        }
    }

    @Override
    public ByteSink stdout() {
        return stdout;
    }

    @Override
    public ByteSink stderr() {
        return stderr;
    }

    /** As upstream: close the pipes (the logger sees EOF), SIGTERM, wait the grace period, SIGKILL. */
    @Override
    public void close() {
        Closeables.closeQuietly(out);
        Closeables.closeQuietly(err);
        try {
            if (process.isAlive()) {
                process.destroy(); // SIGTERM
                if (!process.waitFor(stopGrace.toMillis(), TimeUnit.MILLISECONDS)) {
                    LOG.warn("binary logger {} (pid {}) still running {} after SIGTERM, killing it",
                            executable, process.pid(), stopGrace);
                    process.destroyForcibly();
                    process.waitFor(5, TimeUnit.SECONDS);
                }
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        } finally {
            Closeables.closeQuietly(process.getInputStream());
        }
    }
}
