package dev.katashim.it.bench;

import dev.katashim.it.shim.KataConfigs;
import dev.katashim.it.support.BusyboxRootfs;
import dev.katashim.it.support.CommandResult;
import dev.katashim.it.support.PrivateContainerd;
import dev.katashim.it.support.TempDirs;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.IntStream;
import java.util.stream.Stream;

/**
 * Soak: many sandbox lifecycles through one private containerd, sampling what a leak would grow.
 * Each lifecycle is {@code ctr run -d} (a sleeping container), {@code ctr task exec}, {@code ctr task
 * kill -s KILL}, {@code ctr task rm}, {@code ctr c rm}: Create, Start, Exec, Wait, Kill, Delete and
 * Shutdown on the shim. Every {@code every} lifecycles it prints containerd's fds, threads and RSS, and the
 * node's open files, threads and memory in use; at the end it checks that nothing of any lifecycle is
 * left (process, mount, shim socket, sandbox directory, host cgroup).
 * <p>Usage: {@code SoakBench none|qemu [lifecycles] [every] [parallel]}; exit status 1 when something is left or a lifecycle failed.
 */
public final class SoakBench {
    private static final String RUNTIME = "io.containerd.kata.v2";
    /** A TCG guest on a busy machine can take minutes to answer. */
    private static final int AGENT_DIAL_TIMEOUT_SECONDS = 300;

    record Sample(int done, int containerdFds, int containerdThreads, long containerdRssKib,
                  long nodeOpenFiles, long nodeThreads, long nodeUsedMib, int mounts) {
        String row() {
            return String.format("%6d | %4d fds %3d threads %7.1f MiB | %7d files %6d threads %7d MiB used | %5d mounts",
                    done, containerdFds, containerdThreads, containerdRssKib / 1024.0, nodeOpenFiles, nodeThreads, nodeUsedMib, mounts);
        }
    }

    public static void main(String[] args) throws Exception {
        boolean vm = args.length > 0 && args[0].equals("qemu");
        int lifecycles = args.length > 1 ? Integer.parseInt(args[1]) : vm ? 50 : 500;
        int every = args.length > 2 ? Integer.parseInt(args[2]) : vm ? 5 : 50;
        int parallel = args.length > 3 ? Integer.parseInt(args[3]) : vm ? 1 : 2;
        Path repo = Path.of("").toAbsolutePath();
        Path dir = TempDirs.createShort("kso");
        Path config = vm ? KataConfigs.qemu(dir, repo, "", AGENT_DIAL_TIMEOUT_SECONDS) : KataConfigs.noVm(dir, AGENT_DIAL_TIMEOUT_SECONDS);
        String tag = "soak" + Long.toHexString(System.nanoTime() & 0xffffff);
        int failures = 0;
        long started = System.nanoTime();
        try (PrivateContainerd containerd = PrivateContainerd.builder().prependToPath(repo.resolve("bin"))
                .environment("KATA_CONF_FILE", config.toString()).commandTimeout(Duration.ofMinutes(10)).start()) {
            Path rootfs = BusyboxRootfs.create(dir.resolve("rootfs")).path();
            System.out.printf("soak: %d %s lifecycles, %d at a time, sampled every %d (containerd pid %d)%n",
                    lifecycles, vm ? "QEMU" : "no-VM", parallel, every, containerd.pid());
            System.out.println("  done | containerd                           | node                                     |");
            List<Sample> samples = new ArrayList<>();
            samples.add(sample(0, containerd.pid()));
            System.out.println(samples.getLast().row());
            try (ExecutorService pool = Executors.newFixedThreadPool(parallel)) {
                for (int done = 0; done < lifecycles; ) {
                    int batch = Math.min(every, lifecycles - done);
                    List<Future<String>> results = new ArrayList<>();
                    for (int i = 0; i < batch; i++) {
                        String id = tag + "-" + (done + i);
                        results.add(pool.submit(() -> lifecycle(containerd, rootfs, id)));
                    }
                    for (Future<String> result : results) {
                        String problem = result.get();
                        if (problem != null) {
                            failures++;
                            System.out.println("  FAILED: " + problem);
                        }
                    }
                    done += batch;
                    samples.add(sample(done, containerd.pid()));
                    System.out.println(samples.getLast().row());
                }
            }
            Sample first = samples.get(1);
            Sample last = samples.getLast();
            System.out.printf("first sample to last: containerd fds %+d, threads %+d, RSS %+.1f MiB; node files %+d, threads %+d, used %+d MiB, mounts %+d%n",
                    last.containerdFds() - first.containerdFds(), last.containerdThreads() - first.containerdThreads(),
                    (last.containerdRssKib() - first.containerdRssKib()) / 1024.0, last.nodeOpenFiles() - first.nodeOpenFiles(),
                    last.nodeThreads() - first.nodeThreads(), last.nodeUsedMib() - first.nodeUsedMib(), last.mounts() - first.mounts());
            List<String> left = TaggedLeftovers.find(containerd, tag, IntStream.range(0, lifecycles).mapToObj(i -> tag + "-" + i).toList());
            System.out.printf("%d lifecycles in %.1f min, %d failed; left behind: %s%n", lifecycles,
                    (System.nanoTime() - started) / 60e9, failures, left.isEmpty() ? "nothing" : String.join("; ", left));
            if (!left.isEmpty()) {
                failures++;
            }
        } finally {
            TempDirs.deleteRecursively(dir);
        }
        System.exit(failures == 0 ? 0 : 1);
    }

    /** One lifecycle; null when it went as a user expects, else what went wrong. */
    private static String lifecycle(PrivateContainerd containerd, Path rootfs, String id) {
        CommandResult run = containerd.ctr("run", "-d", "--runtime", RUNTIME, "--rootfs", rootfs.toString(), id, "/bin/sleep", "600");
        try {
            if (!run.succeeded()) {
                return id + " run: " + run;
            }
            CommandResult exec = containerd.ctr("task", "exec", "--exec-id", "probe", id, "/bin/echo", id);
            if (!exec.succeeded() || !exec.stdout().equals(id + "\n")) {
                return id + " exec: " + exec;
            }
            CommandResult kill = containerd.ctr("task", "kill", "-s", "KILL", id);
            if (!kill.succeeded()) {
                return id + " kill: " + kill;
            }
            return null;
        } finally {
            // task rm waits for the killed task to be stopped (-f kills whatever is still running)
            containerd.ctr("task", "rm", "-f", id);
            containerd.ctr("c", "rm", id);
        }
    }

    private static Sample sample(int done, long containerdPid) throws IOException {
        Path proc = Path.of("/proc", Long.toString(containerdPid));
        int fds;
        try (Stream<Path> list = Files.list(proc.resolve("fd"))) {
            fds = (int) list.count();
        }
        long threads = 0;
        long rss = 0;
        for (String line : Files.readAllLines(proc.resolve("status"))) {
            if (line.startsWith("Threads:")) {
                threads = Long.parseLong(line.substring(8).trim());
            } else if (line.startsWith("VmRSS:")) {
                rss = Long.parseLong(line.substring(6).trim().split("\\s+")[0]);
            }
        }
        long openFiles = openFilesOfAllProcesses();
        // loadavg's fourth field: runnable/total scheduling entities (threads) on the node
        long nodeThreads = Long.parseLong(Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+")[3].split("/")[1]);
        long total = 0;
        long available = 0;
        for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
            if (line.startsWith("MemTotal:")) {
                total = Long.parseLong(line.split("\\s+")[1]);
            } else if (line.startsWith("MemAvailable:")) {
                available = Long.parseLong(line.split("\\s+")[1]);
            }
        }
        int mounts = Files.readAllLines(Path.of("/proc/self/mountinfo")).size();
        return new Sample(done, fds, (int) threads, rss, openFiles, nodeThreads, (total - available) / 1024, mounts);
    }

    /** Every process's open fds, summed (this machine's /proc/sys/fs/file-nr does not count them). */
    private static long openFilesOfAllProcesses() throws IOException {
        long sum = 0;
        try (Stream<Path> processes = Files.list(Path.of("/proc"))) {
            for (Path process : processes.filter(p -> p.getFileName().toString().chars().allMatch(Character::isDigit)).toList()) {
                try (Stream<Path> fds = Files.list(process.resolve("fd"))) {
                    sum += fds.count();
                } catch (IOException | java.io.UncheckedIOException gone) {
                    // exited while we looked
                }
            }
        }
        return sum;
    }
}
