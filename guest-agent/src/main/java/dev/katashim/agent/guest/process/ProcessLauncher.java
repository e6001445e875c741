package dev.katashim.agent.guest.process;

import dev.katashim.agent.guest.runc.RuncLog;
import dev.katashim.agent.guest.sys.Libc;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Starts a container process with runc and returns once it really runs, or fails with runc's
 * reason. Two ways, both leaving the reaping to this JVM:
 * <ul>
 *   <li>stdio through pipes: {@code runc run}/{@code exec} in the foreground. runc stays the
 *       JVM's child for the process's whole life and exits with its status; the process runs once
 *       runc wrote its pid file.</li>
 *   <li>a terminal: runc only hands out the pty on a console socket when it detaches, so
 *       {@code runc ... --detach --console-socket}; the process is orphaned to this JVM (a child
 *       subreaper, see {@link Libc#becomeChildSubreaper()}) and reaped here with waitpid(2).</li>
 * </ul>
 */
public final class ProcessLauncher {
    private static final Duration START_TIMEOUT = Duration.ofSeconds(60);
    private static final File DEV_NULL = new File("/dev/null");

    private ProcessLauncher() {
    }

    /**
     * A process that runs: its stdio, host pid and exit status to come.
     *
     * @param detached whether runc left it (runc then keeps its state until {@code runc delete})
     */
    public record Launched(ProcessIo io, long pid, CompletableFuture<Integer> exit, boolean detached) {
    }

    /** Why a process did not start, in runc's words. */
    public static final class LaunchException extends Exception {
        public LaunchException(String message) {
            super(message);
        }
    }

    /**
     * @param consoleSocket where runc sends the terminal (the builder must already name it, with
     *                      --detach), or null for stdio through pipes
     */
    public static Launched launch(ProcessBuilder builder, String name, Path pidFile, Path logFile, Path consoleSocket)
            throws LaunchException, InterruptedException {
        try {
            Files.deleteIfExists(pidFile);
        } catch (IOException e) {
            throw new LaunchException("cannot clear " + pidFile + ": " + e.getMessage());
        }
        return consoleSocket == null
                ? launchWithPipes(builder, name, pidFile, logFile)
                : launchWithTerminal(builder, name, pidFile, logFile, consoleSocket);
    }

    private static Launched launchWithPipes(ProcessBuilder builder, String name, Path pidFile, Path logFile)
            throws LaunchException, InterruptedException {
        Process runc = start(builder.redirectInput(ProcessBuilder.Redirect.PIPE)
                .redirectOutput(ProcessBuilder.Redirect.PIPE)
                .redirectError(ProcessBuilder.Redirect.PIPE));
        PipeIo io = PipeIo.attach(runc, name);
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        try {
            while (true) {
                long pid = readPid(pidFile);
                if (pid > 0) {
                    return new Launched(io, pid, runc.onExit().thenApply(Process::exitValue), false);
                }
                if (runc.waitFor(5, TimeUnit.MILLISECONDS)) {
                    pid = readPid(pidFile); // it may have run and ended already
                    if (pid > 0) {
                        return new Launched(io, pid, CompletableFuture.completedFuture(runc.exitValue()), false);
                    }
                    io.discard();
                    throw failed(runc.exitValue(), logFile);
                }
                if (System.nanoTime() > deadline) {
                    runc.destroyForcibly();
                    runc.waitFor();
                    io.discard();
                    throw new LaunchException(name + " did not start within " + START_TIMEOUT.toSeconds() + " s");
                }
            }
        } catch (InterruptedException e) {
            runc.destroyForcibly();
            io.discard();
            throw e;
        }
    }

    private static Launched launchWithTerminal(ProcessBuilder builder, String name, Path pidFile, Path logFile,
                                               Path consoleSocketPath) throws LaunchException, InterruptedException {
        try (ConsoleSocket console = ConsoleSocket.listen(consoleSocketPath)) {
            Process runc = start(builder.redirectInput(ProcessBuilder.Redirect.from(DEV_NULL))
                    .redirectOutput(ProcessBuilder.Redirect.PIPE)
                    .redirectErrorStream(true));
            CompletableFuture<String> output = drain(runc.getInputStream());
            int master;
            try {
                master = console.receiveMaster(runc, START_TIMEOUT);
            } catch (IOException e) {
                runc.destroyForcibly();
                runc.waitFor();
                throw failed(runc.exitValue(), logFile, output.join(), e.getMessage());
            }
            if (!runc.waitFor(START_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
                runc.destroyForcibly();
                runc.waitFor();
            }
            long pid = readPid(pidFile);
            if (runc.exitValue() != 0 || pid <= 0) {
                Libc.close(master);
                throw failed(runc.exitValue(), logFile, output.join(), "runc exited with status " + runc.exitValue());
            }
            TerminalIo io = TerminalIo.attach(master, name);
            return new Launched(io, pid, reap(pid, name), true);
        } catch (IOException e) {
            throw new LaunchException("console socket " + consoleSocketPath + ": " + e.getMessage());
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

    private static Process start(ProcessBuilder builder) throws LaunchException {
        try {
            return builder.start();
        } catch (IOException e) {
            throw new LaunchException("cannot start " + builder.command().getFirst() + ": " + e.getMessage());
        }
    }

    private static LaunchException failed(int status, Path logFile) {
        String why = RuncLog.lastError(logFile);
        return new LaunchException(why.isEmpty() ? "runc exited with status " + status : why);
    }

    private static LaunchException failed(int status, Path logFile, String output, String fallback) {
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
