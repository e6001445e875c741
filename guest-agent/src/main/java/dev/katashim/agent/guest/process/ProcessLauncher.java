package dev.katashim.agent.guest.process;

import dev.katashim.agent.guest.runc.RuncLog;
import dev.katashim.agent.guest.sys.Libc;
import dev.katashim.agent.guest.sys.Pipe;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Starts a container process with a detached runc ({@code run -d}, {@code create},
 * {@code exec -d}) and returns once runc has made it, or fails with runc's reason. runc exits
 * right away and leaves the process to this JVM, its child subreaper (see
 * {@link Libc#becomeChildSubreaper()}), which reaps it with waitpid(2): so the agent, not runc,
 * decides when a container is deleted (after a last look at its cgroup, for OOM kills).
 * <ul>
 *   <li>stdio through pipes the agent made ({@link PipeIo}), handed to runc by path: runc passes
 *       them on to the process;</li>
 *   <li>a terminal: runc sends the pty master on a console socket ({@link TerminalIo}).</li>
 * </ul>
 */
public final class ProcessLauncher {
    private static final Duration EXEC_TIMEOUT = Duration.ofSeconds(5);
    /** How often, and how many times, to try reaping a killed process before it is adopted (10 s in all). */
    private static final Duration ADOPTION_POLL = Duration.ofMillis(100);
    private static final int ADOPTION_ATTEMPTS = 100;
    private static final File DEV_NULL = new File("/dev/null");
    /** The name runc's init has until it exec's the process ({@code runc:[2:INIT]}). */
    private static final String RUNC_INIT = "runc:[";

    private ProcessLauncher() {
    }

    /** A process runc made: its stdio, host pid and exit status to come (the process's: 128+signal when killed). */
    public record Launched(ProcessIo io, long pid, CompletableFuture<Integer> exit) {
    }

    /** Why a process did not start, in runc's words. */
    public static final class LaunchException extends Exception {
        public LaunchException(String message) {
            super(message);
        }
    }

    /**
     * Runs a detached runc command whose process gets pipes for stdio.
     *
     * @param created whether runc only creates the process ({@code runc create}); else this
     *                returns once runc's init has become the container's process ({@link #awaitExec})
     */
    public static Launched withPipes(ProcessBuilder runc, String name, Path pidFile, Path logFile, boolean created,
                                     StartLimit limit)
            throws LaunchException, InterruptedException {
        clear(pidFile);
        List<Integer> ours = new ArrayList<>();
        List<Integer> theirs = new ArrayList<>();
        try {
            Pipe stdin = Pipe.open();
            ours.add(stdin.writeEnd());
            theirs.add(stdin.readEnd());
            Pipe stdout = Pipe.open();
            ours.add(stdout.readEnd());
            theirs.add(stdout.writeEnd());
            Pipe stderr = Pipe.open();
            ours.add(stderr.readEnd());
            theirs.add(stderr.writeEnd());
            runc.redirectInput(ProcessBuilder.Redirect.from(Pipe.path(stdin.readEnd())))
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(Pipe.path(stdout.writeEnd())))
                    .redirectError(ProcessBuilder.Redirect.appendTo(Pipe.path(stderr.writeEnd())));
        } catch (IOException e) {
            ours.forEach(Libc::close);
            theirs.forEach(Libc::close);
            throw new LaunchException("cannot make the pipes of " + name + ": " + e.getMessage());
        }
        Process process;
        try {
            process = start(runc);
        } finally {
            theirs.forEach(Libc::close); // the child has them now (or never will)
        }
        PipeIo io = PipeIo.attach(ours.get(0), ours.get(1), ours.get(2), name);
        try {
            long pid = awaitDetach(process, name, pidFile, logFile, limit, () -> "");
            Launched launched = new Launched(io, pid, reap(pid, name));
            if (!created) {
                awaitExec(pid);
            }
            return launched;
        } catch (LaunchException | InterruptedException e) {
            io.discard();
            throw e;
        }
    }

    /**
     * Runs a detached runc command with {@code --console-socket consoleSocket}; the master it
     * sends is attached to {@code terminal}. {@code created} as for {@link #withPipes}.
     */
    public static Launched withTerminal(ProcessBuilder runc, String name, Path pidFile, Path logFile, Path consoleSocket,
                                        TerminalIo terminal, boolean created, StartLimit limit)
            throws LaunchException, InterruptedException {
        clear(pidFile);
        try (ConsoleSocket console = ConsoleSocket.listen(consoleSocket)) {
            Process process = start(runc.redirectInput(ProcessBuilder.Redirect.from(DEV_NULL))
                    .redirectOutput(ProcessBuilder.Redirect.PIPE)
                    .redirectErrorStream(true));
            CompletableFuture<String> output = drain(process.getInputStream());
            int master;
            try {
                master = console.receiveMaster(process, limit.left());
            } catch (IOException e) {
                process.destroyForcibly();
                process.waitFor();
                throw failed(logFile, soon(output), e.getMessage());
            }
            long pid;
            try {
                pid = awaitDetach(process, name, pidFile, logFile, limit, () -> soon(output));
            } catch (LaunchException | InterruptedException e) {
                Libc.close(master);
                throw e;
            }
            terminal.attach(master);
            Launched launched = new Launched(terminal, pid, reap(pid, name));
            if (!created) {
                awaitExec(pid);
            }
            return launched;
        } catch (IOException e) {
            throw new LaunchException("console socket " + consoleSocket + ": " + e.getMessage());
        }
    }

    /**
     * Waits for a detached runc to exit; the pid it wrote, or its reason for failing (from its
     * log, else its {@code output}, read only then: the process may hold runc's output open).
     */
    private static long awaitDetach(Process runc, String name, Path pidFile, Path logFile, StartLimit limit, Supplier<String> output)
            throws LaunchException, InterruptedException {
        try {
            if (!runc.waitFor(limit.left().toNanos(), TimeUnit.NANOSECONDS)) {
                destroyWithChildren(runc);
                runc.waitFor();
                throw new LaunchException(name + " did not start within " + limit.describe());
            }
        } catch (InterruptedException e) {
            destroyWithChildren(runc);
            throw e;
        }
        long pid = readPid(pidFile);
        if (runc.exitValue() != 0 || pid <= 0) {
            throw failed(logFile, output.get(), "runc exited with status " + runc.exitValue());
        }
        return pid;
    }

    /**
     * Kills a runc that took too long and what it started (its init, a hook still running): they
     * would outlive it, adopted by this agent, the child subreaper, which then reaps them.
     */
    private static void destroyWithChildren(Process runc) {
        List<ProcessHandle> started = runc.descendants().toList();
        started.forEach(ProcessHandle::destroyForcibly);
        runc.destroyForcibly();
        if (!started.isEmpty()) {
            Thread.ofPlatform().daemon().name("runc-orphan-reaper").start(() -> reapAdopted(started));
        }
    }

    /** Reaps killed processes once they are ours (each is adopted when its parent dies): no zombie stays. */
    private static void reapAdopted(List<ProcessHandle> killed) {
        for (ProcessHandle process : killed) {
            for (int attempt = 0; attempt < ADOPTION_ATTEMPTS; attempt++) {
                try {
                    Libc.waitpid(process.pid());
                    break;
                } catch (IOException notOursYet) {
                    try {
                        Thread.sleep(ADOPTION_POLL.toMillis());
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }
        }
    }

    /**
     * Waits (briefly) until runc's init has exec'd the container's process: a detached runc
     * returns just before, and a signal sent meanwhile would meet runc's init instead (whose
     * handlers differ: a TERM it catches would be lost on the process, pid 1 of its namespace).
     */
    public static void awaitExec(long pid) throws InterruptedException {
        Path comm = Path.of("/proc", Long.toString(pid), "comm");
        long deadline = System.nanoTime() + EXEC_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            try {
                if (!Files.readString(comm).startsWith(RUNC_INIT)) {
                    return;
                }
            } catch (IOException gone) {
                return;
            }
            Thread.sleep(1);
        }
    }

    /** Waits for an adopted process on its own platform thread (waitpid is a blocking native call). */
    private static CompletableFuture<Integer> reap(long pid, String name) {
        CompletableFuture<Integer> exit = new CompletableFuture<>();
        Thread.ofPlatform().daemon().name(name + "-reaper").start(() -> {
            try {
                exit.complete(Libc.waitpid(pid));
            } catch (IOException | RuntimeException e) {
                exit.completeExceptionally(e);
            }
        });
        return exit;
    }

    private static void clear(Path pidFile) throws LaunchException {
        try {
            Files.deleteIfExists(pidFile);
        } catch (IOException e) {
            throw new LaunchException("cannot clear " + pidFile + ": " + e.getMessage());
        }
    }

    private static Process start(ProcessBuilder builder) throws LaunchException {
        try {
            return builder.start();
        } catch (IOException e) {
            throw new LaunchException("cannot start " + builder.command().getFirst() + ": " + e.getMessage());
        }
    }

    private static LaunchException failed(Path logFile, String output, String fallback) {
        String why = RuncLog.lastError(logFile);
        if (why.isEmpty()) {
            why = RuncLog.lastError(output);
        }
        return new LaunchException(why.isEmpty() ? fallback : why);
    }

    private static long readPid(Path pidFile) {
        try {
            String text = Files.readString(pidFile).strip();
            return text.isEmpty() ? -1 : Long.parseLong(text);
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
    }

    /** What runc printed, waiting a little at most: a process it left behind may hold the pipe open. */
    private static String soon(CompletableFuture<String> output) {
        return output.completeOnTimeout("", 1, TimeUnit.SECONDS).join();
    }

    private static CompletableFuture<String> drain(InputStream in) {
        CompletableFuture<String> text = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            try (in) {
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                in.transferTo(out);
                text.complete(out.toString(StandardCharsets.UTF_8));
            } catch (IOException e) {
                text.complete("");
            }
        });
        return text;
    }
}
