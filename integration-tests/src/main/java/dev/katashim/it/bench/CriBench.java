package dev.katashim.it.bench;

import dev.katashim.cri.CriClient;
import dev.katashim.cri.v1.PodSandboxConfig;
import dev.katashim.it.cri.CriNode;
import dev.katashim.it.shim.KataConfigs;
import dev.katashim.it.support.TempDirs;
import dev.katashim.metrics.server.HttpClient;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;

/**
 * Pods through containerd's CRI plugin, as kubelet starts them: pod start (RunPodSandbox, then
 * CreateContainer and StartContainer of the first container, until StartContainer returns: the
 * container runs) and pod teardown (StopPodSandbox and RemovePodSandbox), handler {@code kata}
 * (our shim, a QEMU VM) beside handler {@code runc} in the same run; then the start phases the shim
 * measured and the host memory (PSS) of an idle kata pod: its shim and its QEMU.
 * Usage: {@code CriBench [runs=3]}.
 */
public final class CriBench {
    /** An idle pod settles (the guest's boot-time work done) before its memory is read. */
    private static final Duration SETTLE = Duration.ofSeconds(15);

    private static final Duration IDLE_CPU_WINDOW = Duration.ofSeconds(20);
    /** USER_HZ: 100 on every Linux x86-64 build. */
    private static final int CLOCK_TICKS_PER_SECOND = 100;

    private record Timing(long startNanos, long teardownNanos) {
    }

    public static void main(String[] args) throws Exception {
        int runs = args.length > 0 ? Integer.parseInt(args[0]) : 3;
        Path repo = Path.of("").toAbsolutePath();
        Path dir = TempDirs.createShort("kcb");
        try (CriNode node = CriNode.builder(repo).kataHandler(CriNode.KATA, KataConfigs.qemu(dir, repo, "", 200)).start()) {
            long[][] kata = new long[2][runs];
            long[][] runc = new long[2][runs];
            for (int i = 0; i < runs; i++) {
                record(kata, i, podStartAndTeardown(node, CriNode.KATA, "kata-" + i));
                record(runc, i, podStartAndTeardown(node, CriNode.RUNC, "runc-" + i));
            }
            System.out.printf("pod start (RunPodSandbox -> first container running), median of %d: kata %.1f s, runc %.2f s%n",
                    runs, median(kata[0]) / 1e9, median(runc[0]) / 1e9);
            System.out.printf("pod teardown (StopPodSandbox + RemovePodSandbox), median of %d: kata %.1f s, runc %.2f s%n",
                    runs, median(kata[1]) / 1e9, median(runc[1]) / 1e9);
            idlePod(node);
        } finally {
            TempDirs.deleteRecursively(dir);
        }
        System.exit(0);
    }

    private static void record(long[][] into, int run, Timing timing) {
        into[0][run] = timing.startNanos();
        into[1][run] = timing.teardownNanos();
    }

    private static long median(long[] values) {
        long[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }

    private static Timing podStartAndTeardown(CriNode node, String handler, String name) {
        CriClient cri = node.cri();
        PodSandboxConfig config = node.pod(name).build();
        long start = System.nanoTime();
        String pod = cri.runPodSandbox(config, handler);
        String container = cri.createContainer(pod, CriNode.container("app", "/bin/sleep", "600").build(), config);
        cri.startContainer(container);
        long running = System.nanoTime();
        cri.stopPodSandbox(pod);
        cri.removePodSandbox(pod);
        return new Timing(running - start, System.nanoTime() - running);
    }

    private static void idlePod(CriNode node) throws Exception {
        CriClient cri = node.cri();
        PodSandboxConfig config = node.pod("idle").build();
        String pod = cri.runPodSandbox(config, CriNode.KATA);
        cri.startContainer(cri.createContainer(pod, CriNode.container("app", "/bin/sleep", "600").build(), config));
        Path sandbox = node.sandboxRoot().resolve(pod);
        String metrics = HttpClient.getBlocking(sandbox.resolve("shim-monitor.sock"), "/metrics", "text/plain", Duration.ofSeconds(20)).body();
        System.out.println("start phases of a kata pod (seconds):");
        metrics.lines().filter(l -> l.startsWith("kata_shim_sandbox_start_phase_seconds{")).forEach(l -> System.out.println("  " + l));
        Thread.sleep(SETTLE);
        long shimPid = Long.parseLong(Files.readString(sandbox.resolve("shim.pid")).trim());
        long qemuPid = Long.parseLong(Files.readString(sandbox.resolve("hypervisor.pid")).trim());
        long shim = ProcessMemory.pssKib(shimPid);
        long qemu = ProcessMemory.pssKib(qemuPid);
        System.out.printf("host memory of an idle kata pod (PSS): shim %.0f MiB + QEMU %.0f MiB = %.0f MiB (guest default_memory 1024 MiB)%n",
                shim / 1024.0, qemu / 1024.0, (shim + qemu) / 1024.0);
        long ticksBefore = cpuTicks(shimPid) + cpuTicks(qemuPid);
        Thread.sleep(IDLE_CPU_WINDOW);
        long ticks = cpuTicks(shimPid) + cpuTicks(qemuPid) - ticksBefore;
        System.out.printf("host CPU of the idle kata pod (shim + QEMU) over %d s: %.0f millicores%n",
                IDLE_CPU_WINDOW.toSeconds(), ticks * 1000.0 / CLOCK_TICKS_PER_SECOND / IDLE_CPU_WINDOW.toSeconds());
        cri.stopPodSandbox(pod);
        cri.removePodSandbox(pod);
    }

    /** utime + stime of a process, in clock ticks (/proc/<pid>/stat fields 14 and 15). */
    private static long cpuTicks(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
    }
}
