package dev.katashim.it.bench;

import dev.katashim.it.shim.KataConfigs;
import dev.katashim.it.support.BusyboxRootfs;
import dev.katashim.it.support.CommandResult;
import dev.katashim.it.support.PrivateContainerd;
import dev.katashim.it.support.TempDirs;
import dev.katashim.metrics.server.HttpClient;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;

/**
 * VM pod density and per-pod host memory, measured as upstream Kata's memory-footprint test does:
 * N sandboxes running an idle container, settled, then the PSS of each one's shim and QEMU (PSS
 * shares a page among the processes that map it, so the pods add up to what the node pays), averaged.
 * Each pod must also answer {@code /metrics} on its management socket. Every N is a round of its
 * own: started one after the other ({@code ctr run -d}, timed), measured, killed and removed, and
 * nothing of the round may be left ({@link TaggedLeftovers}: process, mount, socket, directory, cgroup, task).
 * <p>Usage: {@code DensityBench [counts=1,5,10] [kernel=vmlinuz] [memoryMiB=1024] [reclaim=on|off] [root=virtio-pmem]}:
 * kernel is a file of the guest image (vmlinuz, or vmlinux: the same kernel uncompressed); reclaim
 * is {@code reclaim_guest_freed_memory}; root is the guest's root ({@link KataConfigs.GuestRootKind}:
 * virtio-pmem, virtio-blk-pci, initramfs). Exit status 1 when a pod failed or something was left.
 */
public final class DensityBench {
    /** Idle long enough for the guest's boot-time work (and QEMU's) to have finished. */
    private static final Duration SETTLE = Duration.ofSeconds(30);
    private static final int AGENT_DIAL_TIMEOUT_SECONDS = 300;

    private record Pod(String id, long startNanos, long shimPssKib, long qemuPssKib, int metricsStatus) {
    }

    public static void main(String[] args) throws Exception {
        int[] counts = Arrays.stream((args.length > 0 ? args[0] : "1,5,10").split(",")).mapToInt(Integer::parseInt).toArray();
        String kernel = args.length > 1 ? args[1] : KataConfigs.DEFAULT_KERNEL;
        int memory = args.length > 2 ? Integer.parseInt(args[2]) : KataConfigs.DEFAULT_MEMORY_MIB;
        boolean reclaim = args.length <= 3 || switch (args[3]) {
            case "on" -> true;
            case "off" -> false;
            default -> throw new IllegalArgumentException("reclaim is on or off, not " + args[3]);
        };
        KataConfigs.GuestRootKind root = args.length > 4 ? KataConfigs.GuestRootKind.parse(args[4]) : KataConfigs.DEFAULT_ROOT;
        Path repo = Path.of("").toAbsolutePath();
        Path dir = TempDirs.createShort("kdb");
        boolean ok = true;
        try (PrivateContainerd containerd = PrivateContainerd.builder().prependToPath(repo.resolve("bin"))
                .commandTimeout(Duration.ofMinutes(10))
                .environment("KATA_CONF_FILE", KataConfigs.qemu(dir, repo, new KataConfigs.Guest(kernel, root, memory, "virtio-9p", reclaim), "",
                        AGENT_DIAL_TIMEOUT_SECONDS).toString()).start()) {
            Path rootfs = BusyboxRootfs.create(dir.resolve("rootfs")).path();
            System.out.printf("density: QEMU under TCG, 1 vCPU, %d MiB guest, kernel %s, root %s, reclaim_guest_freed_memory %s;"
                    + " pods started one after the other, settled %d s%n", memory, kernel, root.key(), reclaim ? "on" : "off", SETTLE.toSeconds());
            System.out.println("  pods | ctr run -d, median | PSS per pod: shim + QEMU = total | /metrics answered | left behind");
            for (int n : counts) {
                ok &= round(containerd, rootfs, n);
            }
        } finally {
            TempDirs.deleteRecursively(dir);
        }
        System.exit(ok ? 0 : 1);
    }

    /** N pods up, measured, down; true when all started, answered and left nothing. */
    private static boolean round(PrivateContainerd containerd, Path rootfs, int n) throws Exception {
        String tag = containerd.uniqueId("dens");
        List<Pod> pods = new ArrayList<>();
        List<String> failures = new ArrayList<>();
        List<String> left;
        try {
            List<String> started = new ArrayList<>();
            List<Long> startNanos = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                String id = tag + "-" + i;
                long t = System.nanoTime();
                CommandResult run = containerd.ctr("run", "-d", "--runtime", "io.containerd.kata.v2", "--rootfs", rootfs.toString(),
                        id, "/bin/sleep", "3600");
                if (!run.succeeded()) {
                    failures.add(id + ": " + run);
                    continue;
                }
                started.add(id);
                startNanos.add(System.nanoTime() - t);
            }
            Thread.sleep(SETTLE);
            for (int i = 0; i < started.size(); i++) {
                pods.add(measure(containerd, started.get(i), startNanos.get(i)));
            }
        } finally {
            for (int i = 0; i < n; i++) {
                containerd.ctr("task", "kill", "-s", "KILL", tag + "-" + i);
            }
            for (int i = 0; i < n; i++) {
                containerd.ctr("task", "rm", "-f", tag + "-" + i);
                containerd.ctr("c", "rm", tag + "-" + i);
            }
            left = TaggedLeftovers.find(containerd, tag, IntStream.range(0, n).mapToObj(i -> tag + "-" + i).toList());
        }
        long answered = pods.stream().filter(p -> p.metricsStatus() == 200).count();
        if (!pods.isEmpty()) {
            long[] starts = pods.stream().mapToLong(Pod::startNanos).sorted().toArray();
            double shim = pods.stream().mapToLong(Pod::shimPssKib).average().orElse(0) / 1024;
            double qemu = pods.stream().mapToLong(Pod::qemuPssKib).average().orElse(0) / 1024;
            System.out.printf("  %4d | %17.1f s | %6.1f + %6.1f = %6.1f MiB | %d of %d | %s%n", n, starts[starts.length / 2] / 1e9,
                    shim, qemu, shim + qemu, answered, n, left.isEmpty() ? "nothing" : String.join("; ", left));
        }
        failures.forEach(f -> System.out.println("  FAILED to start: " + f));
        if (pods.isEmpty() && !left.isEmpty()) {
            System.out.println("  left behind: " + String.join("; ", left));
        }
        return failures.isEmpty() && answered == n && left.isEmpty();
    }

    private static Pod measure(PrivateContainerd containerd, String id, long startNanos) throws Exception {
        Path sandbox = containerd.directory().resolve("sbs").resolve(id);
        int status = HttpClient.getBlocking(sandbox.resolve("shim-monitor.sock"), "/metrics", "text/plain", Duration.ofSeconds(60)).status();
        long shim = ProcessMemory.pssKib(Long.parseLong(Files.readString(sandbox.resolve("shim.pid")).trim()));
        long qemu = ProcessMemory.pssKib(Long.parseLong(Files.readString(sandbox.resolve("hypervisor.pid")).trim()));
        return new Pod(id, startNanos, shim, qemu, status);
    }
}
