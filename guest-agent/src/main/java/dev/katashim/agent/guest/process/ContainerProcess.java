package dev.katashim.agent.guest.process;

import dev.katashim.agent.guest.sys.Libc;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * One process of a container (its init, or an exec): its stdio, its host pid and its exit status
 * (the process's: 128+signal when killed).
 */
public final class ContainerProcess {
    private final String execId;
    private final boolean init;
    private final ProcessIo io;
    private final long pid;
    private final CompletableFuture<Integer> exit;
    private final boolean detached;

    public ContainerProcess(String execId, boolean init, ProcessLauncher.Launched launched) {
        this.execId = execId;
        this.init = init;
        this.io = launched.io();
        this.pid = launched.pid();
        this.exit = launched.exit();
        this.detached = launched.detached();
    }

    public String execId() {
        return execId;
    }

    public boolean init() {
        return init;
    }

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
            throw new IllegalStateException("exit of " + execId + " unknown", e.getCause());
        }
    }

    /** Sends a signal to the process; false if it had already gone. */
    public boolean signal(int signal) throws IOException {
        if (exited()) {
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

    /** Whether runc detached from it (a terminal process): runc keeps its state until deleted. */
    public boolean detached() {
        return detached;
    }
}
