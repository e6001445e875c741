package dev.katashim.it.bench;

import dev.katashim.it.shim.KataConfigs;
import dev.katashim.it.support.BusyboxRootfs;
import dev.katashim.it.support.CommandResult;
import dev.katashim.it.support.PrivateContainerd;
import dev.katashim.it.support.TempDirs;
import dev.katashim.metrics.server.HttpClient;

import java.nio.file.Path;
import java.time.Duration;

/**
 * {@code GET /metrics} latency on a sandbox's management socket, with 1 and with N containers in
 * the sandbox (pod containers joined with CRI's annotations, as Kubernetes would), agent round trip
 * included. Usage: {@code MetricsBench [containers=50] [scrapes=300]}.
 */
public final class MetricsBench {
    public static void main(String[] args) throws Exception {
        int containers = args.length > 0 ? Integer.parseInt(args[0]) : 50;
        int scrapes = args.length > 1 ? Integer.parseInt(args[1]) : 300;
        Path repo = Path.of("").toAbsolutePath();
        Path dir = TempDirs.createShort("kmb");
        try (PrivateContainerd containerd = PrivateContainerd.builder().prependToPath(repo.resolve("bin"))
                .environment("KATA_CONF_FILE", KataConfigs.noVm(dir).toString()).start()) {
            String rootfs = BusyboxRootfs.create(dir.resolve("rootfs")).path().toString();
            String sandbox = containerd.uniqueId("pod");
            run(containerd, rootfs, sandbox, "sandbox", sandbox);
            Path socket = containerd.directory().resolve("sbs").resolve(sandbox).resolve("shim-monitor.sock");
            System.out.printf("GET /metrics on one sandbox's management socket, %d scrapes after warm-up%n", scrapes);
            report(socket, 1, scrapes);
            for (int i = 1; i < containers; i++) {
                run(containerd, rootfs, containerd.uniqueId("c" + i), "container", sandbox);
            }
            report(socket, containers, scrapes);
        } finally {
            TempDirs.deleteRecursively(dir);
        }
        System.exit(0);
    }

    private static void run(PrivateContainerd containerd, String rootfs, String id, String type, String sandbox) {
        CommandResult result = containerd.ctr("run", "-d", "--runtime", "io.containerd.kata.v2",
                "--annotation", "io.kubernetes.cri.container-type=" + type,
                "--annotation", "io.kubernetes.cri.sandbox-id=" + sandbox,
                "--rootfs", rootfs, id, "/bin/sleep", "600");
        if (!result.succeeded()) {
            throw new IllegalStateException("ctr run " + id + ": " + result);
        }
    }

    private static void report(Path socket, int containers, int scrapes) throws Exception {
        for (int i = 0; i < 30; i++) {
            HttpClient.getBlocking(socket, "/metrics", "text/plain", Duration.ofSeconds(10));
        }
        long[] nanos = new long[scrapes];
        int bytes = 0;
        for (int i = 0; i < scrapes; i++) {
            long start = System.nanoTime();
            HttpClient.Response response = HttpClient.getBlocking(socket, "/metrics", "text/plain", Duration.ofSeconds(10));
            nanos[i] = System.nanoTime() - start;
            if (response.status() != 200) {
                throw new IllegalStateException("status " + response.status());
            }
            bytes = response.body().length();
        }
        LatencyStats stats = LatencyStats.of(nanos);
        System.out.printf("%3d container(s): p50 %.1f ms, p99 %.1f ms (%d bytes per scrape)%n",
                containers, stats.p50Micros() / 1000, stats.p99Micros() / 1000, bytes);
    }
}
