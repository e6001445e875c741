package dev.katashim.it.bench;

import dev.katashim.it.peers.TaskApiClient;
import dev.katashim.it.shim.KataConfigs;
import dev.katashim.it.shim.OciBundles;
import dev.katashim.it.shim.ShimProcessUnderTest;
import dev.katashim.it.support.BusyboxRootfs;
import dev.katashim.it.support.CommandResult;
import dev.katashim.it.support.ExternalCommand;
import dev.katashim.it.support.PrivateContainerd;
import dev.katashim.it.support.Processes;
import dev.katashim.it.support.TempDirs;
import dev.katashim.protocols.containerd.task.v2.ConnectRequest;
import dev.katashim.protocols.containerd.task.v2.ConnectResponse;
import dev.katashim.protocols.containerd.task.v2.ShutdownRequest;
import dev.katashim.sys.UnixSocketFile;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Our shim (no-VM sandbox) beside containerd-shim-runc-v2, in the same run:
 * {@code ctr run --rm ... /bin/echo hi} wall time, an idle shim's RSS, USS and threads, and the time
 * from {@code start} to the printed address (and to the first answered call).
 * <p>Usage: {@code ShimBench [runs]}.
 */
public final class ShimBench {
    private static final String KATA = "io.containerd.kata.v2";
    private static final String RUNC = "io.containerd.runc.v2";

    public static void main(String[] args) throws Exception {
        int runs = args.length > 0 ? Integer.parseInt(args[0]) : 10;
        Path repo = Path.of("").toAbsolutePath();
        Path dir = TempDirs.createShort("ksb");
        Path config = KataConfigs.noVm(dir);
        try (PrivateContainerd containerd = PrivateContainerd.builder().prependToPath(repo.resolve("bin"))
                .environment("KATA_CONF_FILE", config.toString()).start()) {
            Path rootfs = BusyboxRootfs.create(dir.resolve("rootfs")).path();
            System.out.printf("shim benchmark: %d runs each, alternating, one private containerd%n%n", runs);

            long[] kata = new long[runs];
            long[] runc = new long[runs];
            for (int i = -1; i < runs; i++) { // i = -1: warm-up (page cache, JIT of containerd's first shim)
                long r = timeRun(containerd, RUNC, rootfs);
                long k = timeRun(containerd, KATA, rootfs);
                if (i >= 0) {
                    runc[i] = r;
                    kata[i] = k;
                }
            }
            double kataMs = median(kata) / 1e6;
            double runcMs = median(runc) / 1e6;
            System.out.printf("ctr run --rm /bin/echo hi (median wall time): ours %.0f ms, runc shim %.0f ms, ratio %.2f%n",
                    kataMs, runcMs, kataMs / runcMs);

            idleFootprint(containerd, rootfs);
            startLatency(containerd, dir, rootfs, runs);
        } finally {
            TempDirs.deleteRecursively(dir);
        }
        System.exit(0);
    }

    private static long timeRun(PrivateContainerd containerd, String runtime, Path rootfs) {
        String id = containerd.uniqueId("bench");
        long start = System.nanoTime();
        CommandResult result = containerd.ctr("run", "--rm", "--runtime", runtime, "--rootfs", rootfs.toString(), id, "/bin/echo", "hi");
        long elapsed = System.nanoTime() - start;
        if (!result.succeeded() || !result.stdout().equals("hi\n")) {
            throw new IllegalStateException(runtime + ": " + result);
        }
        return elapsed;
    }

    private static void idleFootprint(PrivateContainerd containerd, Path rootfs) throws Exception {
        String kataId = containerd.uniqueId("idle-kata");
        String runcId = containerd.uniqueId("idle-runc");
        for (String[] pair : new String[][]{{KATA, kataId}, {RUNC, runcId}}) {
            CommandResult run = containerd.ctr("run", "-d", "--runtime", pair[0], "--rootfs", rootfs.toString(), pair[1], "/bin/sleep", "600");
            if (!run.succeeded()) {
                throw new IllegalStateException(run.toString());
            }
        }
        Thread.sleep(3000); // idle: let start-up garbage settle
        long ours = Processes.shimServing(kataId).pid();
        long agent = pidOf(c -> c.contains("GuestAgentMain") && c.contains("/" + kataId + "/"));
        long theirs = pidOf(c -> c.contains("containerd-shim-runc-v2") && c.contains("-id " + runcId));
        ProcessMemory o = ProcessMemory.of(ours);
        ProcessMemory a = ProcessMemory.of(agent);
        ProcessMemory t = ProcessMemory.of(theirs);
        System.out.printf("idle shim: ours RSS %.1f MiB (USS %.1f MiB, %d threads); runc shim RSS %.1f MiB (USS %.1f MiB, %d threads); RSS ratio %.2f%n",
                o.rssMib(), o.ussMib(), o.threads(), t.rssMib(), t.ussMib(), t.threads(), o.rssMib() / t.rssMib());
        System.out.printf("  plus the no-VM sandbox's host agent: RSS %.1f MiB (USS %.1f MiB, %d threads)%n", a.rssMib(), a.ussMib(), a.threads());
        for (String id : List.of(kataId, runcId)) {
            containerd.ctr("task", "kill", "-s", "KILL", id);
            containerd.ctr("task", "rm", "-f", id);
            containerd.ctr("c", "rm", id);
        }
    }

    private static long pidOf(java.util.function.Predicate<String> commandLine) {
        return ProcessHandle.allProcesses()
                .filter(p -> p.info().commandLine().map(commandLine::test).orElse(false))
                .mapToLong(ProcessHandle::pid).findFirst().orElseThrow(() -> new IllegalStateException("process not found"));
    }

    /** {@code start} → address printed, and → first Connect answered; ours and runc's shim, run directly. */
    private static void startLatency(PrivateContainerd containerd, Path dir, Path rootfs, int runs) throws Exception {
        long[] oursAddress = new long[runs];
        long[] oursServing = new long[runs];
        long[] runcAddress = new long[runs];
        long[] runcServing = new long[runs];
        for (int i = 0; i < runs; i++) {
            String id = "start-" + i;
            Path bundle = OciBundles.create(dir.resolve(id), rootfs, Map.of(), "/bin/true");
            long[] ours = startAndConnect(containerd, bundle, id, ShimProcessUnderTest.launcher().toString(), dir);
            oursAddress[i] = ours[0];
            oursServing[i] = ours[1];
            String runcId = "runc-start-" + i;
            Path runcBundle = OciBundles.create(dir.resolve(runcId), rootfs, Map.of(), "/bin/true");
            long[] theirs = startAndConnect(containerd, runcBundle, runcId, "/usr/bin/containerd-shim-runc-v2", dir);
            runcAddress[i] = theirs[0];
            runcServing[i] = theirs[1];
        }
        System.out.printf("start -> address printed (median): ours %.0f ms, runc shim %.0f ms, ratio %.2f%n",
                median(oursAddress) / 1e6, median(runcAddress) / 1e6, (double) median(oursAddress) / median(runcAddress));
        System.out.printf("start -> first Connect answered (median): ours %.0f ms%s%n", median(oursServing) / 1e6,
                median(runcServing) > 0 ? String.format(", runc shim %.0f ms, ratio %.2f", median(runcServing) / 1e6,
                        (double) median(oursServing) / median(runcServing)) : " (a runc shim started outside containerd's bookkeeping does not stay up: not measured)");
    }

    /** Runs {@code start} as containerd would (its addresses, a namespace of the bench's own). */
    private static long[] startAndConnect(PrivateContainerd containerd, Path bundle, String id, String binary, Path dir) throws Exception {
        long start = System.nanoTime();
        CommandResult result = ExternalCommand.run(List.of("/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", bundle.toString(), binary,
                        "-namespace", containerd.namespace(), "-address", containerd.grpcAddress().toString(),
                        "-publish-binary", "/usr/bin/containerd", "-id", id, "start"),
                Map.of("KATA_SHIM_SANDBOX_ROOT", dir.resolve("sbs").toString(), "TTRPC_ADDRESS", containerd.ttrpcAddress().toString(),
                        "KATA_CONF_FILE", KataConfigs.noVm(dir).toString()),
                new byte[0], Duration.ofSeconds(30));
        long printed = System.nanoTime() - start;
        if (!result.succeeded()) {
            throw new IllegalStateException(binary + " start: " + result);
        }
        String address = result.stdout().trim();
        long serving = -1;
        try (TaskApiClient shim = ShimProcessUnderTest.connect(address, containerd.namespace())) {
            shim.call("Connect", ConnectRequest.newBuilder().setId(id).build(), ConnectResponse.parser());
            serving = System.nanoTime() - start;
            try {
                shim.call("Shutdown", ShutdownRequest.newBuilder().setId(id).build(), com.google.protobuf.Empty.parser());
            } catch (RuntimeException closed) {
                // a shim may exit before answering Shutdown
            }
        } catch (java.io.IOException | dev.katashim.ttrpc.status.TtrpcException e) {
            // runc's shim, started outside containerd's bookkeeping, does not stay up: no serving time
        }
        // a shim that exited without cleaning up leaves its socket file in the shared /run/containerd/s
        UnixSocketFile.removeIfDead(Path.of(address.substring("unix://".length())));
        return new long[]{printed, serving};
    }

    private static long median(long[] values) {
        long[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }
}
