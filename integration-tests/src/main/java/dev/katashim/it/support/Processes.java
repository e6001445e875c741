package dev.katashim.it.support;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/** Finding and ending processes. Only ever by pid: never by a broad name. */
public final class Processes {

    private Processes() {
    }

    /** Every live process (other than this JVM) that the predicate claims. */
    public static List<LinuxProcess> matching(Predicate<LinuxProcess> predicate) {
        long self = ProcessHandle.current().pid();
        return ProcessHandle.allProcesses()
                .map(ProcessHandle::pid)
                .filter(pid -> pid != self)
                .map(LinuxProcess::read)
                .flatMap(Optional::stream)
                .filter(predicate)
                .toList();
    }

    /**
     * The shim processes serving sandbox {@code id}: our launcher runs the JVM as {@code ShimMain -id <id>}.
     * A list, so that a test can also check there is exactly one, or none.
     */
    public static List<ProcessHandle> shimsServing(String id) {
        return ProcessHandle.allProcesses()
                .filter(p -> p.info().commandLine().map(c -> c.contains("ShimMain") && c.contains("-id " + id)).orElse(false))
                .toList();
    }

    /** The one shim process serving sandbox {@code id}; an AssertionError naming the sandbox when there is none. */
    public static ProcessHandle shimServing(String id) {
        return shimsServing(id).stream().findFirst()
                .orElseThrow(() -> new AssertionError("no shim process (ShimMain -id " + id + ") is running"));
    }

    /** SIGKILLs a process and all its descendants, snapshotting the tree first so nobody gets reparented away. */
    public static void killTree(ProcessHandle root) {
        Set<ProcessHandle> victims = new LinkedHashSet<>();
        victims.add(root);
        root.descendants().forEach(victims::add);
        victims.forEach(ProcessHandle::destroyForcibly);
        awaitExit(List.copyOf(victims), Duration.ofSeconds(5));
    }

    /** Kills every listed pid with its descendants. */
    public static void killTrees(List<Long> pids) {
        List<ProcessHandle> roots = new ArrayList<>();
        pids.forEach(pid -> ProcessHandle.of(pid).ifPresent(roots::add));
        Set<ProcessHandle> victims = new LinkedHashSet<>(roots);
        roots.forEach(root -> root.descendants().forEach(victims::add));
        victims.forEach(ProcessHandle::destroyForcibly);
        awaitExit(List.copyOf(victims), Duration.ofSeconds(5));
    }

    /**
     * True while the process exists and is not a zombie. A killed process whose parent is gone waits for
     * pid 1 to reap it; it is dead already, so it counts as gone.
     */
    public static boolean isRunning(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            char state = stat.substring(stat.lastIndexOf(')') + 2).charAt(0);
            return state != 'Z' && state != 'X';
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** Waits until none of the pids is running; returns those still running at the deadline. */
    public static List<Long> awaitGone(List<Long> pids, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        List<Long> running = pids.stream().filter(Processes::isRunning).toList();
        while (!running.isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(20);
            running = running.stream().filter(Processes::isRunning).toList();
        }
        return running;
    }

    /** SIGTERM, then SIGKILL once the grace period is over. Returns true if SIGTERM was enough. */
    public static boolean stop(Process process, Duration grace) throws InterruptedException {
        process.destroy();
        if (process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
            return true;
        }
        process.destroyForcibly();
        process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS);
        return false;
    }

    /** Polls /proc rather than using onExit(): for non-children the JDK only notices an exit about once a second. */
    private static void awaitExit(List<ProcessHandle> processes, Duration timeout) {
        try {
            awaitGone(processes.stream().map(ProcessHandle::pid).toList(), timeout);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
