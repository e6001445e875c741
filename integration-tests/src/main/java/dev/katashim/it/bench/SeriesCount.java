package dev.katashim.it.bench;

import dev.katashim.it.shim.KataConfigs;
import dev.katashim.it.support.BusyboxRootfs;
import dev.katashim.it.support.CommandResult;
import dev.katashim.it.support.PrivateContainerd;
import dev.katashim.it.support.TempDirs;
import dev.katashim.metrics.server.HttpClient;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;

/**
 * How many {@code kata_*} series one idle sandbox costs a Prometheus: one pod with one sleeping
 * container, left idle for a few seconds, its socket's {@code /metrics} counted per family (what
 * {@code curl --unix-socket <dir>/shim-monitor.sock http://x/metrics | grep -c '^kata_'} counts).
 * Usage: {@code SeriesCount [none|qemu] [idleSeconds=15]}.
 */
public final class SeriesCount {
    public static void main(String[] args) throws Exception {
        boolean vm = args.length > 0 && args[0].equals("qemu");
        int idleSeconds = args.length > 1 ? Integer.parseInt(args[1]) : 15;
        Path repo = Path.of("").toAbsolutePath();
        Path dir = TempDirs.createShort("ksc");
        try (PrivateContainerd containerd = PrivateContainerd.builder().prependToPath(repo.resolve("bin"))
                .commandTimeout(Duration.ofMinutes(3))
                .environment("KATA_CONF_FILE", (vm ? KataConfigs.qemu(dir, repo, "", 120) : KataConfigs.noVm(dir)).toString())
                .start()) {
            String rootfs = BusyboxRootfs.create(dir.resolve("rootfs")).path().toString();
            String id = containerd.uniqueId("idle");
            CommandResult run = containerd.ctr("run", "-d", "--runtime", "io.containerd.kata.v2", "--rootfs", rootfs, id,
                    "/bin/sleep", "600");
            if (!run.succeeded()) {
                throw new IllegalStateException("ctr run: " + run);
            }
            Thread.sleep(idleSeconds * 1000L);
            Path socket = containerd.directory().resolve("sbs").resolve(id).resolve("shim-monitor.sock");
            String text = HttpClient.getBlocking(socket, "/metrics", "text/plain", Duration.ofSeconds(20)).body();
            Map<String, Integer> perFamily = new TreeMap<>();
            int total = 0;
            for (String line : text.lines().toList()) {
                if (line.startsWith("kata_")) {
                    total++;
                    perFamily.merge(family(line), 1, Integer::sum);
                }
            }
            System.out.printf("%s sandbox, idle %d s after one container started: %d kata_* series%n",
                    vm ? "QEMU" : "no-VM", idleSeconds, total);
            perFamily.forEach((family, n) -> System.out.printf("  %5d %s%n", n, family));
            containerd.ctr("task", "kill", "-s", "KILL", id);
        } finally {
            TempDirs.deleteRecursively(dir);
        }
        System.exit(0);
    }

    /** A sample line's family: its name up to the labels, histogram suffixes folded in. */
    private static String family(String line) {
        int end = line.indexOf('{');
        String name = line.substring(0, end >= 0 ? end : line.indexOf(' '));
        return name.contains("_histogram_") ? name.replaceAll("_(bucket|sum|count)$", "") : name;
    }
}
