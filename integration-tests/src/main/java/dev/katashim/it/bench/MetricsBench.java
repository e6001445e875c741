package dev.katashim.it.bench;

import dev.katashim.it.shim.KataConfigs;
import dev.katashim.it.support.BusyboxRootfs;
import dev.katashim.it.support.CommandResult;
import dev.katashim.it.support.PrivateContainerd;
import dev.katashim.it.support.TempDirs;
import dev.katashim.metrics.server.HttpClient;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@code GET /metrics} latency on a sandbox's management socket (no-VM sandbox), with 1 and with N
 * containers in the sandbox (pod containers joined with CRI's annotations, as Kubernetes would),
 * beside the baseline: an empty HTTP answer on the same socket machinery ({@link EmptyAnswerServer},
 * in a JVM with the shim's flags), i.e. what the runc shim's metrics (none) cost a scraper.
 * Usage: {@code MetricsBench [containers=50] [scrapes=1000] [none|qemu]} (qemu: the sandbox in a VM,
 * this checkout's guest image).
 */
public final class MetricsBench {
    /** The shim's JVM flags, as bin/containerd-shim-kata-v2 runs it. */
    private static final List<String> SHIM_JVM_FLAGS = List.of("-XX:+UseSerialGC", "-Xms8m", "-Xmx96m",
            "-XX:TieredStopAtLevel=1", "-XX:CICompilerCount=1", "-Xss512k", "--finalization=disabled",
            "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow");
    /** What the issue asks of 50 containers in the no-VM sandbox. */
    private static final double TARGET_P99_MS = 20;

    public static void main(String[] args) throws Exception {
        int containers = args.length > 0 ? Integer.parseInt(args[0]) : 50;
        int scrapes = args.length > 1 ? Integer.parseInt(args[1]) : 1000;
        boolean vm = args.length > 2 && args[2].equals("qemu");
        Path repo = Path.of("").toAbsolutePath();
        Path dir = TempDirs.createShort("kmb");
        List<String> rows = new ArrayList<>();
        Path empty = dir.resolve("empty.sock");
        Process baseline = startEmptyAnswerServer(empty);
        Path config = vm ? KataConfigs.qemu(dir, repo, "", 180) : KataConfigs.noVm(dir);
        String kind = vm ? "QEMU (TCG) sandbox" : "no-VM sandbox";
        try (PrivateContainerd containerd = PrivateContainerd.builder().prependToPath(repo.resolve("bin"))
                .commandTimeout(Duration.ofMinutes(4)).environment("KATA_CONF_FILE", config.toString()).start()) {
            String rootfs = BusyboxRootfs.create(dir.resolve("rootfs")).path().toString();
            String sandbox = containerd.uniqueId("pod");
            run(containerd, rootfs, sandbox, "sandbox", sandbox);
            Path socket = containerd.directory().resolve("sbs").resolve(sandbox).resolve("shim-monitor.sock");
            rows.addAll(measure(empty, socket, kind + ", 1 container", scrapes));
            for (int i = 1; i < containers; i++) {
                run(containerd, rootfs, containerd.uniqueId("c" + i), "container", sandbox);
            }
            rows.addAll(measure(empty, socket, kind + ", " + containers + " containers", scrapes));
        } finally {
            baseline.getOutputStream().close();
            if (!baseline.waitFor(5, TimeUnit.SECONDS)) {
                baseline.destroyForcibly().waitFor();
            }
            TempDirs.deleteRecursively(dir);
        }
        System.out.printf("GET /metrics over a unix socket: %d scrapes of each, alternating with the baseline (same moments, same noise),"
                + " after as many to warm up (target p99 < %.0f ms with %d containers)%n", scrapes, TARGET_P99_MS, containers);
        System.out.printf("| %-48s | %8s | %8s | %9s |%n", "server", "p50 ms", "p99 ms", "bytes");
        System.out.printf("|%s|%s|%s|%s|%n", "-".repeat(50), "-".repeat(10), "-".repeat(10), "-".repeat(11));
        rows.forEach(System.out::println);
        System.exit(0);
    }

    /** The empty answer, served in a JVM of its own with the shim's flags. */
    private static Process startEmptyAnswerServer(Path socket) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = new ArrayList<>(List.of(java));
        command.addAll(SHIM_JVM_FLAGS);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), EmptyAnswerServer.class.getName(), socket.toString()));
        Process server = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
        String ready = out.readLine();
        if (!"ready".equals(ready)) {
            server.destroyForcibly().waitFor();
            throw new IllegalStateException("the empty-answer server did not start: " + ready);
        }
        return server;
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

    /** Scrapes the baseline and the sandbox in turn, {@code scrapes} times each after as many to warm both up. */
    private static List<String> measure(Path baseline, Path sandbox, String what, int scrapes) throws Exception {
        for (int i = 0; i < scrapes; i++) {
            scrape(baseline);
            scrape(sandbox);
        }
        long[] empty = new long[scrapes];
        long[] full = new long[scrapes];
        int bytes = 0;
        for (int i = 0; i < scrapes; i++) {
            boolean baselineFirst = i % 2 == 0;
            if (baselineFirst) {
                empty[i] = scrape(baseline);
            }
            long start = System.nanoTime();
            bytes = scrapeBody(sandbox).length();
            full[i] = System.nanoTime() - start;
            if (!baselineFirst) {
                empty[i] = scrape(baseline);
            }
        }
        List<String> rows = List.of(row("empty answer, same machinery (baseline)", LatencyStats.of(empty), 0),
                row(what, LatencyStats.of(full), bytes));
        rows.forEach(System.out::println);
        return rows;
    }

    private static String row(String what, LatencyStats stats, int bytes) {
        return String.format("| %-48s | %8.2f | %8.2f | %9d |", what, stats.p50Micros() / 1000, stats.p99Micros() / 1000, bytes);
    }

    private static long scrape(Path socket) throws Exception {
        long start = System.nanoTime();
        scrapeBody(socket);
        return System.nanoTime() - start;
    }

    private static String scrapeBody(Path socket) throws Exception {
        HttpClient.Response response = HttpClient.getBlocking(socket, "/metrics", "text/plain", Duration.ofSeconds(10));
        if (response.status() != 200) {
            throw new IllegalStateException(socket + ": status " + response.status());
        }
        return response.body();
    }
}
