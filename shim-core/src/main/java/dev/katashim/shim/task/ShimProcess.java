package dev.katashim.shim.task;

import dev.katashim.protocols.containerd.types.task.Status;
import dev.katashim.protocols.kata.agent.Process;
import dev.katashim.shim.io.IoContext;
import dev.katashim.shim.io.ProcessIo;
import dev.katashim.shim.io.StdioSpec;
import dev.katashim.shim.sandbox.Sandbox;
import dev.katashim.ttrpc.status.StatusCode;
import dev.katashim.ttrpc.status.TtrpcException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * A process containerd knows: a container's init ({@code execId} "") or an exec, and its life:
 * created → running (⇄ pausing → paused, for an init) → stopped, once. The agent knows it as
 * {@code (containerId, agentExecId)}: the container id for init, a fresh UUID for an exec. Its
 * state is guarded by its own monitor; waiters block on {@link #awaitExit()}.
 */
final class ShimProcess {
    private static final Logger log = LoggerFactory.getLogger(ShimProcess.class);
    private static final int SIGKILL = 9;
    private static final int SIGTERM = 15;

    private final String containerId;
    private final String execId;
    private final String agentExecId;
    private final StdioSpec stdio;
    /** An exec's OCI process, kept from Exec until Start; null for an init. */
    private final Process spec;
    private final ProcessIo io;
    private final CompletableFuture<Exit> exit = new CompletableFuture<>();
    private Status status = Status.CREATED;

    /** What State reports, read at once. */
    record Snapshot(Status status, Optional<Exit> exit) {
    }

    private ShimProcess(String containerId, String execId, String agentExecId, StdioSpec stdio, Process spec, ProcessIo io) {
        this.containerId = containerId;
        this.execId = execId;
        this.agentExecId = agentExecId;
        this.stdio = stdio;
        this.spec = spec;
        this.io = io;
    }

    static ShimProcess init(String containerId, StdioSpec stdio, ProcessIo io) {
        return new ShimProcess(containerId, "", containerId, stdio, null, io);
    }

    static ShimProcess exec(String containerId, String execId, String agentExecId, StdioSpec stdio, Process spec, ProcessIo io) {
        return new ShimProcess(containerId, execId, agentExecId, stdio, spec, io);
    }

    /** containerd's side of a process's stdio, opened at Create/Exec so that a bad path fails there, as upstream. */
    static ProcessIo openIo(StdioSpec stdio, IoContext context) {
        try {
            return ProcessIo.open(stdio, context);
        } catch (IllegalArgumentException e) {
            throw new TtrpcException(StatusCode.INVALID_ARGUMENT, e.getMessage());
        } catch (IOException e) {
            throw new TtrpcException(StatusCode.INVALID_ARGUMENT, "cannot open the stdio of the process: " + e.getMessage());
        }
    }

    String containerId() {
        return containerId;
    }

    String execId() {
        return execId;
    }

    StdioSpec stdio() {
        return stdio;
    }

    boolean isInit() {
        return execId.isEmpty();
    }

    /** The id events and State use: the container id for init, the exec id for an exec. */
    String eventId() {
        return isInit() ? containerId : execId;
    }

    synchronized Status status() {
        return status;
    }

    synchronized Snapshot snapshot() {
        return new Snapshot(status, exit.isDone() ? Optional.of(exit.join()) : Optional.empty());
    }

    /** Whether its processes run in the sandbox now (running or paused). */
    synchronized boolean isAlive() {
        return status == Status.RUNNING || status == Status.PAUSED || status == Status.PAUSING;
    }

    /** Blocks until it has exited. */
    Exit awaitExit() {
        return exit.join();
    }

    /**
     * Starts it in the sandbox and connects its stdio. When the sandbox refuses, it is stopped
     * (status 255, no exit event: it never ran) and its stdio closed.
     */
    void start(Sandbox sandbox) throws Exception {
        synchronized (this) {
            if (status != Status.CREATED) {
                throw TtrpcException.of(StatusCode.FAILED_PRECONDITION, "%s %s is %s, not created: it cannot be started again",
                        isInit() ? "container" : "exec", eventId(), status);
            }
        }
        try {
            if (isInit()) {
                sandbox.startContainer(containerId);
            } else {
                sandbox.execProcess(containerId, agentExecId, spec);
            }
        } catch (Exception e) {
            io.close();
            synchronized (this) {
                status = Status.STOPPED;
                exit.complete(new Exit(Exit.UNKNOWN_STATUS, Instant.now()));
            }
            throw e;
        }
        io.start(sandbox.streams(containerId, agentExecId));
        synchronized (this) {
            status = Status.RUNNING;
        }
    }

    /** Sends {@code signal}; a stopped process takes KILL and TERM silently (CRI's StopPodSandbox is repeated). */
    void kill(Sandbox sandbox, int signal) throws Exception {
        synchronized (this) {
            if (status == Status.STOPPED && (signal == SIGKILL || signal == SIGTERM)) {
                return;
            }
            if (!isInit() && status == Status.CREATED) {
                throw TtrpcException.of(StatusCode.NOT_FOUND, "exec %s has not started: not found", execId);
            }
            if (status == Status.STOPPED) {
                throw TtrpcException.of(StatusCode.NOT_FOUND, "process %s already exited: not found", eventId());
            }
        }
        try {
            sandbox.signalProcess(containerId, isInit() ? "" : agentExecId, signal);
        } catch (TtrpcException e) {
            // KILL can end the sandbox's own container, and with it the sandbox and the agent's
            // connection, before the agent's answer arrives: the signal did its work
            if (signal == SIGKILL || signal == SIGTERM) {
                synchronized (this) {
                    if (status == Status.STOPPED) {
                        log.debug("{} {}: stopped while signal {} was answered ({}): taken as delivered", isInit() ? "container" : "exec", eventId(), signal, e.getMessage());
                        return;
                    }
                }
            }
            throw e;
        }
    }

    /** Resizes its terminal; a process without one, or not running, is refused here rather than by the agent. */
    void resizePty(Sandbox sandbox, int rows, int columns) throws Exception {
        String what = isInit() ? "container " + containerId : "exec " + execId + " of container " + containerId;
        if (!stdio.terminal()) {
            throw TtrpcException.of(StatusCode.FAILED_PRECONDITION, "%s has no terminal (it was not started with one): nothing to resize", what);
        }
        Status now = status();
        if (now != Status.RUNNING && now != Status.PAUSED) {
            throw TtrpcException.of(StatusCode.FAILED_PRECONDITION, "%s is %s: its terminal cannot be resized", what, now);
        }
        sandbox.resizePty(containerId, agentExecId, rows, columns);
    }

    void closeStdin() throws IOException, InterruptedException {
        io.closeStdin();
    }

    /** Pauses its container (an init's); back to running when the sandbox refuses. */
    void pause(Sandbox sandbox) throws Exception {
        synchronized (this) {
            status = Status.PAUSING;
        }
        try {
            sandbox.pauseContainer(containerId);
        } catch (Exception e) {
            synchronized (this) {
                status = Status.RUNNING;
            }
            throw e;
        }
        synchronized (this) {
            status = Status.PAUSED;
        }
    }

    void resume(Sandbox sandbox) throws Exception {
        sandbox.resumeContainer(containerId);
        synchronized (this) {
            status = Status.RUNNING;
        }
    }

    /** Once started: on a thread of its own, waits for its exit status and hands it to {@code onExit}. */
    void watchExit(Sandbox sandbox, java.util.function.IntConsumer onExit) {
        Thread.ofVirtual().name("wait-" + eventId()).start(() -> onExit.accept(awaitExitStatus(sandbox)));
    }

    /** Waits for all of its output to be copied, then for its exit status. */
    private int awaitExitStatus(Sandbox sandbox) {
        try {
            io.outputDone().join();
        } catch (RuntimeException e) {
            log.warn("output of {} ended with {}", eventId(), e.toString());
        }
        try {
            return sandbox.waitProcess(containerId, agentExecId);
        } catch (Exception e) {
            log.warn("WaitProcess for {} failed: {}; reporting {}", eventId(), e.getMessage(), Exit.UNKNOWN_STATUS);
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            return Exit.UNKNOWN_STATUS;
        }
    }

    /**
     * Records its exit, once. {@code publish} runs under the process's monitor, so that no event
     * about the stopped process (a Delete's) can overtake the exit event.
     */
    void exited(int exitStatus, Consumer<Exit> publish) {
        Exit recorded = new Exit(exitStatus, Instant.now());
        synchronized (this) {
            if (exit.isDone()) {
                return;
            }
            status = Status.STOPPED;
            publish.accept(recorded); // before a waiter wakes: who saw Wait return finds the event sent
            exit.complete(recorded);
        }
        io.close();
    }

    /** Closes its stdio (Delete), and says how it ended: its exit, or {@code ifNone} if it never ran to one. */
    Exit close(Exit ifNone) {
        io.close();
        return snapshot().exit().orElse(ifNone);
    }
}
