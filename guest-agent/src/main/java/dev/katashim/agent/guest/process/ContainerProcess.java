package dev.katashim.agent.guest.process;

import dev.katashim.agent.guest.sys.Libc;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * One process of a container (its init, or an exec): its stdio, its host pid and its exit status
 * (the process's: 128+signal when killed). A terminal process may exist before it runs: its start
 * then waits behind a {@link WindowSizeGate}, and its pid is unknown (-1) until runc made it.
 */
public final class ContainerProcess {
    private static final Logger log = LoggerFactory.getLogger(ContainerProcess.class);
    /** The status of a process that could not run (the shim's convention too). */
    public static final int NEVER_RAN = 255;

    private final String execId;
    private final boolean init;
    private final ProcessIo io;
    private final CompletableFuture<Integer> exit = new CompletableFuture<>();
    private volatile long pid = -1;
    private volatile WindowSizeGate gate;

    public ContainerProcess(String execId, boolean init, ProcessIo io) {
        this.execId = execId;
        this.init = init;
        this.io = io;
    }

    public static ContainerProcess running(String execId, boolean init, ProcessLauncher.Launched launched) {
        ContainerProcess process = new ContainerProcess(execId, init, launched.io());
        process.ran(launched);
        return process;
    }

    /** runc made the process: its pid, and its exit to come. */
    public void ran(ProcessLauncher.Launched launched) {
        pid = launched.pid();
        launched.exit().whenComplete((status, failure) -> {
            if (failure != null) {
                log.warn("exit status of process {} (pid {}) unknown: {}", execId, launched.pid(), failure.toString());
            }
            exit.complete(status == null ? NEVER_RAN : status);
        });
    }

    /** The process will never run (it could not be made, or was removed before it started). */
    public void neverRan(int status) {
        exit.complete(status);
    }

    /** Its start waits for its window size (see {@link WindowSizeGate}). */
    public void holdUntilWindowSize(WindowSizeGate gate) {
        this.gate = gate;
    }

    public String execId() {
        return execId;
    }

    public boolean init() {
        return init;
    }

    /** The host pid, -1 while the process waits for its start. */
    public long pid() {
        return pid;
    }

    public ProcessIo io() {
        return io;
    }

    public CompletableFuture<Integer> exit() {
        return exit;
    }

    public boolean exited() {
        return exit.isDone();
    }

    /** Blocks until the process ended; its status. */
    public int awaitExit() throws InterruptedException {
        try {
            return exit.get();
        } catch (ExecutionException e) {
            return NEVER_RAN; // never completed exceptionally; kept for the compiler
        }
    }

    /** Sets the terminal's size; a process waiting for it starts now. Failures of that start are thrown. */
    public void resize(WindowSize size) throws Exception {
        io.resize(size.rows(), size.columns());
        WindowSizeGate held = gate;
        if (held != null) {
            held.open(Optional.of(size));
        }
    }

    /** A process still waiting for its window size starts now, without one. */
    public void startIfHeld() {
        WindowSizeGate held = gate;
        if (held == null) {
            return;
        }
        try {
            held.open(Optional.empty());
        } catch (Exception e) {
            log.warn("process {}: start failed: {}", execId, e.getMessage());
        }
    }

    /** Whether it has not started yet, and will not any more. */
    public boolean cancelStart() {
        WindowSizeGate held = gate;
        return held != null && held.cancel();
    }

    /** Sends a signal to the process (started first if it waits); false if it had already gone. */
    public boolean signal(int signal) throws IOException {
        startIfHeld();
        if (exited() || pid <= 0) {
            return false;
        }
        return Libc.kill(pid, signal);
    }

    /** Whether the process has a handler for {@code signal} (else pid 1 of a namespace ignores it). */
    public boolean handles(int signal) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (line.startsWith("SigCgt:")) {
                    long mask = Long.parseUnsignedLong(line.substring("SigCgt:".length()).strip(), 16);
                    return (mask & (1L << (signal - 1))) != 0;
                }
            }
        } catch (IOException | NumberFormatException e) {
            // gone, or unreadable: treat as unhandled
        }
        return false;
    }
}
