package dev.katashim.vmm;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Starts a sandbox's helper processes (QEMU, virtiofsd) so that they die with this JVM: a shim
 * killed with SIGKILL must not leave a VM running until someone runs {@code delete}.
 *
 * <p>The kernel's parent-death signal ({@code PR_SET_PDEATHSIG}, set by util-linux's
 * {@code setpriv} just before it execs the command; it survives the exec) is sent when the
 * <em>thread</em> that forked the child ends, not only the process. A process started from a
 * virtual thread's carrier, or from a pool thread that retires when idle, would be killed with
 * it. So every such process is forked from one platform thread that lives as long as the JVM.
 */
public final class DiesWithParent {
    private static final Logger log = LoggerFactory.getLogger(DiesWithParent.class);
    static final Path SETPRIV = Path.of("/usr/bin/setpriv");
    /** One worker, never retired: a task's exception stays in its Future, so the thread is never replaced. */
    private static final ExecutorService FORKER = Executors.newSingleThreadExecutor(
            task -> Thread.ofPlatform().daemon().name("vmm-forker").unstarted(task));

    private DiesWithParent() {
    }

    /** {@code builder}'s command, started so that it gets SIGKILL when this JVM dies; without setpriv, started plainly. */
    public static Process start(ProcessBuilder builder) throws IOException {
        return start(builder, List.of());
    }

    /**
     * The same, with more of setpriv(1)'s options applied to the command ({@code --bounding-set ...});
     * without setpriv they cannot be, and the command starts with this JVM's privileges.
     */
    public static Process start(ProcessBuilder builder, List<String> setprivOptions) throws IOException {
        List<String> command = builder.command();
        if (Files.isExecutable(SETPRIV)) {
            builder.command(prefixed(command, setprivOptions));
        } else {
            log.warn("{} is missing: {} will outlive a killed shim until delete kills it{}", SETPRIV, command.getFirst(),
                    setprivOptions.isEmpty() ? "" : ", and runs without " + setprivOptions);
        }
        Future<Process> started = FORKER.submit(builder::start);
        try {
            return started.get();
        } catch (InterruptedException e) {
            // the fork happens anyway: wait for it, so that the caller can stop what it started
            Thread.currentThread().interrupt();
            return awaitUninterruptibly(started);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
        } finally {
            builder.command(command);
        }
    }

    /** {@code setpriv --pdeathsig KILL -- <command>}: the same process once setpriv has exec'd the command. */
    static List<String> prefixed(List<String> command) {
        return prefixed(command, List.of());
    }

    static List<String> prefixed(List<String> command, List<String> setprivOptions) {
        List<String> argv = new ArrayList<>(List.of(SETPRIV.toString(), "--pdeathsig", "KILL"));
        argv.addAll(setprivOptions);
        argv.add("--");
        argv.addAll(command);
        return argv;
    }

    private static Process awaitUninterruptibly(Future<Process> started) throws IOException {
        while (true) {
            try {
                return started.get();
            } catch (InterruptedException again) {
                // keep waiting: the interrupt is already recorded
            } catch (ExecutionException e) {
                throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
            }
        }
    }
}
