package dev.katashim.shim.io;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The stdio of one container process or exec: containerd's side (FIFOs, a {@code binary://} logger or a
 * {@code file://} log) joined to the agent's side ({@link AgentStreams}).
 *
 * <p>Lifecycle, as in the Go shim: {@link #open} at Create/Exec (so a bad stdio string fails there), {@link
 * #start} once the process runs in the guest, {@link #outputDone()} before the exit event is published,
 * {@link #closeStdin()} for CloseIO, {@link #close()} at Delete. {@link #start(StdioSpec, AgentStreams,
 * IoContext)} does the first two at once.
 *
 * <ul>
 *   <li>stdin FIFO → agent: the end of the FIFO never closes the agent's stdin; only {@link #closeStdin()} does
 *       (or, with no stdin at all, {@link #start} at once, as stdin from /dev/null would). Stdin works with every
 *       sink (deliberately: the Go shim ignores stdin when stdout is {@code binary://} or {@code file://}).
 *   <li>agent stdout → sink; when it ends the stdin copy is stopped.
 *   <li>agent stderr → sink, only without a terminal (a pty merges stderr into stdout).
 * </ul>
 */
public final class ProcessIo implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ProcessIo.class);

    /** How long {@link #close()} waits for copy threads stuck in an agent call that ignores interrupts. */
    private static final Duration THREAD_EXIT_WAIT = Duration.ofSeconds(5);

    private final StdioSpec spec;
    private final IoContext ctx;
    private final StdinPump stdin; // null: no stdin
    private final OutputSink sink;
    private final CompletableFuture<Void> outputDone = new CompletableFuture<>();
    private final CompletableFuture<Void> sinkClosed = new CompletableFuture<>();
    private final Object stdinCloseLock = new Object();

    // guarded by this
    private AgentStreams agent;
    private OutputPump stdoutPump;
    private OutputPump stderrPump;
    private boolean closed;
    private boolean sinkClosing;

    // guarded by stdinCloseLock
    private boolean agentStdinClosed;

    private ProcessIo(StdioSpec spec, IoContext ctx, StdinPump stdin, OutputSink sink) {
        this.spec = spec;
        this.ctx = ctx;
        this.stdin = stdin;
        this.sink = sink;
    }

    /**
     * Opens containerd's side: the stdin FIFO, and the output sink chosen by the stdout scheme. Never waits for
     * containerd to open its FIFO ends.
     *
     * @throws IllegalArgumentException for a stdio string we cannot use ("unknown STDIO scheme syslog")
     * @throws IOException if a FIFO is missing or not a FIFO, the log file cannot be opened, or the logger
     *     cannot be started or does not become ready
     */
    public static ProcessIo open(StdioSpec spec, IoContext ctx) throws IOException {
        OutputTarget target = OutputTarget.of(spec);
        Path stdinPath = OutputTarget.fifoPath(spec.stdin(), "stdin");
        StdinPump stdin = stdinPath == null ? null : StdinPump.open(stdinPath);
        try {
            return new ProcessIo(spec, ctx, stdin, OutputSink.open(target, ctx));
        } catch (IOException | RuntimeException e) {
            if (stdin != null) {
                stdin.stop();
            }
            throw e;
        }
    }

    /** {@link #open} and {@link #start(AgentStreams)} in one. */
    public static ProcessIo start(StdioSpec spec, AgentStreams agent, IoContext ctx) throws IOException {
        ProcessIo io = open(spec, ctx);
        try {
            io.start(agent);
            return io;
        } catch (RuntimeException e) {
            io.close();
            throw e;
        }
    }

    /**
     * Starts copying between the agent and containerd's side.
     *
     * @throws IllegalStateException if already started or closed
     */
    public void start(AgentStreams agent) {
        synchronized (this) {
            if (closed) {
                throw new IllegalStateException("process IO of " + ctx.label() + " is closed");
            }
            if (this.agent != null) {
                throw new IllegalStateException("process IO of " + ctx.label() + " already started");
            }
            this.agent = agent;
            String prefix = "kata-io-" + ctx.label() + "-";
            stdoutPump = new OutputPump(prefix + "stdout", agent::readStdout, sink.stdout());
            stderrPump = spec.terminal() ? null : new OutputPump(prefix + "stderr", agent::readStderr, sink.stderr());

            if (stdin != null) {
                stdin.start(agent, prefix + "stdin");
            }
            // Upstream: when stdout has been copied, close the stdin FIFO so that copy ends too.
            stdoutPump.done().whenComplete((v, e) -> {
                if (stdin != null) {
                    stdin.stop();
                }
            });
            CompletableFuture<Void> outputs = stderrPump == null
                    ? stdoutPump.done()
                    : CompletableFuture.allOf(stdoutPump.done(), stderrPump.done());
            // Runs on the copy thread that finishes last: the sink is flushed and closed (a logger has exited)
            // before anyone learns that the output is complete.
            outputs.whenComplete((v, e) -> {
                closeSink();
                outputDone.complete(null);
            });
            stdoutPump.start();
            if (stderrPump != null) {
                stderrPump.start();
            }
        }
        if (stdin == null) {
            // No stdin: the process must read EOF, not wait forever (upstream closes the agent's stdin here).
            try {
                closeAgentStdin(agent);
            } catch (IOException | RuntimeException e) {
                LOG.warn("{}: closing the agent's stdin failed: {}", ctx.label(), e.toString());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Completes once stdout and stderr have been copied in full and the sink is closed (the exit event must
     * follow all output). Also completes when the agent fails mid-copy, and at {@link #close()}. Never fails.
     */
    public CompletableFuture<Void> outputDone() {
        return outputDone.copy();
    }

    /**
     * CloseIO: forwards what containerd wrote into the stdin FIFO before this call, waits for that write to the
     * agent to finish, stops the stdin copy and closes the agent's stdin. Does not wait for containerd to close
     * its end. Idempotent.
     *
     * @throws IllegalStateException before {@link #start} or after {@link #close()}
     * @throws IOException if the agent fails to close stdin (a later call tries again)
     */
    public void closeStdin() throws IOException, InterruptedException {
        AgentStreams agentStreams;
        synchronized (this) {
            if (closed) {
                throw new IllegalStateException("process IO of " + ctx.label() + " is closed");
            }
            if (agent == null) {
                throw new IllegalStateException("process IO of " + ctx.label() + " is not started");
            }
            agentStreams = agent;
        }
        if (stdin != null) {
            stdin.drainAndStop();
            try {
                stdin.stopped().get();
            } catch (ExecutionException e) {
                throw new IllegalStateException("stdin copy never fails", e);
            }
        }
        closeAgentStdin(agentStreams);
    }

    /**
     * Releases everything: FIFOs and files, the logger process (SIGTERM, then SIGKILL after the grace period),
     * the copy threads. Output not yet copied is dropped. Waits a bounded time for threads stuck in agent calls
     * that ignore interrupts (they end when those calls return). Idempotent; never throws.
     */
    @Override
    public void close() {
        OutputPump out;
        OutputPump err;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            out = stdoutPump;
            err = stderrPump;
        }
        if (stdin != null) {
            stdin.stop();
            stdin.interrupt();
        }
        if (out != null) {
            out.stop();
        }
        if (err != null) {
            err.stop();
        }
        closeSink();
        long deadline = System.nanoTime() + THREAD_EXIT_WAIT.toNanos();
        try {
            awaitSinkClosed(deadline + ctx.loggerStopGrace().toNanos());
            boolean exited = (out == null || out.await(remaining(deadline)))
                    & (err == null || err.await(remaining(deadline)))
                    & (stdin == null || stdin.await(remaining(deadline)));
            if (!exited) {
                LOG.warn("{}: a copy thread is still blocked in an agent call; it ends when that call returns",
                        ctx.label());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        outputDone.complete(null);
    }

    private void closeAgentStdin(AgentStreams agentStreams) throws IOException, InterruptedException {
        synchronized (stdinCloseLock) {
            if (!agentStdinClosed) {
                agentStreams.closeStdin();
                agentStdinClosed = true;
            }
        }
    }

    /** Once, from whichever comes first: the end of the output, or close(). Others wait in awaitSinkClosed. */
    private void closeSink() {
        synchronized (this) {
            if (sinkClosing) {
                return;
            }
            sinkClosing = true;
        }
        try {
            sink.close();
        } finally {
            sinkClosed.complete(null);
        }
    }

    private void awaitSinkClosed(long deadlineNanos) throws InterruptedException {
        try {
            sinkClosed.get(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            LOG.warn("{}: output sink still closing", ctx.label());
        } catch (ExecutionException e) {
            throw new IllegalStateException("sink close never fails", e);
        }
    }

    private static Duration remaining(long deadlineNanos) {
        return Duration.ofNanos(Math.max(1, deadlineNanos - System.nanoTime()));
    }
}
