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
import java.util.Arrays;

/**
 * VM sandboxes (QEMU, the guest image scripts/setup builds): {@code ctr run --rm ... echo} wall time
 * beside the runc shim in the same run, the start phases the shim measures (its
 * {@code kata_shim_sandbox_start_phase_seconds}), and the RSS of the shim and of QEMU per sandbox.
 * Usage: {@code VmBench [runs=3] [kernel=vmlinuz|vmlinux] [guest memoryMiB=1024] [root=virtio-pmem|virtio-blk-pci|initramfs]}.
 */
public final class VmBench {
    public static void main(String[] args) throws Exception {
        int runs = args.length > 0 ? Integer.parseInt(args[0]) : 3;
        String kernel = args.length > 1 ? args[1] : KataConfigs.DEFAULT_KERNEL;
        int memory = args.length > 2 ? Integer.parseInt(args[2]) : KataConfigs.DEFAULT_MEMORY_MIB;
        KataConfigs.GuestRootKind root = args.length > 3 ? KataConfigs.GuestRootKind.parse(args[3]) : KataConfigs.DEFAULT_ROOT;
        Path repo = Path.of("").toAbsolutePath();
        Path dir = TempDirs.createShort("kvb");
        try (PrivateContainerd containerd = PrivateContainerd.builder().prependToPath(repo.resolve("bin"))
                .commandTimeout(Duration.ofMinutes(3))
                .environment("KATA_CONF_FILE", KataConfigs.qemu(dir, repo, new KataConfigs.Guest(kernel, root, memory, "virtio-9p", KataConfigs.DEFAULT_RECLAIM_FREED_MEMORY), "", 120).toString()).start()) {
            String rootfs = BusyboxRootfs.create(dir.resolve("rootfs")).path().toString();
            long[] vm = new long[runs];
            long[] runc = new long[runs];
            for (int i = 0; i < runs; i++) {
                vm[i] = timeRun(containerd, "io.containerd.kata.v2", rootfs);
                runc[i] = timeRun(containerd, "io.containerd.runc.v2", rootfs);
            }
            Arrays.sort(vm);
            Arrays.sort(runc);
            System.out.printf("ctr run --rm /bin/echo hi, median of %d (kernel %s, root %s, %d MiB guest): VM sandbox %.1f s, runc shim %.2f s, ratio %.0f%n",
                    runs, kernel, root.key(), memory, vm[runs / 2] / 1e9, runc[runs / 2] / 1e9, (double) vm[runs / 2] / runc[runs / 2]);

            String id = containerd.uniqueId("vmb");
            CommandResult run = containerd.ctr("run", "-d", "--runtime", "io.containerd.kata.v2", "--rootfs", rootfs, id, "/bin/sleep", "600");
            if (!run.succeeded()) {
                throw new IllegalStateException(run.toString());
            }
            Path sandbox = containerd.directory().resolve("sbs").resolve(id);
            String metrics = HttpClient.getBlocking(sandbox.resolve("shim-monitor.sock"), "/metrics", "text/plain", Duration.ofSeconds(20)).body();
            System.out.println("start phases of a sandbox (seconds):");
            metrics.lines().filter(l -> l.startsWith("kata_shim_sandbox_start_phase_seconds{")).forEach(l -> System.out.println("  " + l));
            Thread.sleep(3000);
            long qemu = Long.parseLong(Files.readString(sandbox.resolve("hypervisor.pid")).trim());
            long shim = Long.parseLong(Files.readString(sandbox.resolve("shim.pid")).trim());
            ProcessMemory q = ProcessMemory.of(qemu);
            ProcessMemory s = ProcessMemory.of(shim);
            System.out.printf("per sandbox, idle: shim RSS %.1f MiB (USS %.1f), QEMU RSS %.1f MiB (USS %.1f) with a %d MiB guest%n",
                    s.rssMib(), s.ussMib(), q.rssMib(), q.ussMib(), memory);
            containerd.ctr("task", "kill", "-s", "KILL", id);
        } finally {
            TempDirs.deleteRecursively(dir);
        }
        System.exit(0);
    }

    private static long timeRun(PrivateContainerd containerd, String runtime, String rootfs) {
        long start = System.nanoTime();
        CommandResult result = containerd.ctr("run", "--rm", "--runtime", runtime, "--rootfs", rootfs, containerd.uniqueId("b"), "/bin/echo", "hi");
        long elapsed = System.nanoTime() - start;
        if (!result.succeeded() || !result.stdout().equals("hi\n")) {
            throw new IllegalStateException(runtime + ": " + result);
        }
        return elapsed;
    }
}
