package dev.katashim.it.demo;

import dev.katashim.it.support.BusyboxRootfs;
import dev.katashim.it.support.CommandResult;
import dev.katashim.it.support.PrivateContainerd;
import dev.katashim.it.support.PrivateContainerdBuilder;
import dev.katashim.it.support.TempDirs;

import java.nio.file.Path;

/**
 * The main job: a private containerd runs busybox containers through our
 * containerd-shim-kata-v2 ({@code --runtime io.containerd.kata.v2}), printing each ctr command
 * and what it answered, then the sandbox's metrics (ctr task metrics, and the management socket).
 */
public final class ShimDemo {
    private static final String RUNTIME = "io.containerd.kata.v2";

    public static void main(String[] args) throws Exception {
        Path repo = Path.of("").toAbsolutePath();
        Path dir = TempDirs.createShort("ktd");
        // QEMU VMs booting the guest image scripts/setup built (its default configuration); without
        // the image, the no-VM sandbox, said plainly
        boolean vm = java.nio.file.Files.exists(dev.katashim.it.shim.KataConfigs.guestImage(repo).resolve("initramfs.img"));
        PrivateContainerdBuilder builder = PrivateContainerd.builder().prependToPath(repo.resolve("bin"))
                .commandTimeout(java.time.Duration.ofMinutes(3));
        if (vm) {
            builder.environment("KATA_CONF_FILE", dev.katashim.it.shim.KataConfigs.qemu(dir, repo, "", 120).toString());
        } else {
            System.out.println("no guest image (run scripts/setup): using the no-VM sandbox, without VM isolation");
            builder.environment("KATA_CONF_FILE", dev.katashim.it.shim.KataConfigs.noVm(dir).toString());
        }
        try (PrivateContainerd containerd = builder.start()) {
            String rootfs = BusyboxRootfs.create(dir.resolve("rootfs")).path().toString();
            System.out.println("private containerd " + containerd.grpcAddress() + ", namespace " + containerd.namespace()
                    + ", our shim from " + repo.resolve("bin/containerd-shim-kata-v2"));

            String one = containerd.uniqueId("hello");
            show(containerd, "run", "--rm", "--runtime", RUNTIME, "--rootfs", rootfs, one,
                    "/bin/sh", "-c", "echo hello from a container on kernel $(uname -r) with $(nproc) CPU; exit 3");
            System.out.println("(the host's kernel is " + java.nio.file.Files.readString(Path.of("/proc/sys/kernel/osrelease")).trim() + ")");

            String two = containerd.uniqueId("sleeper");
            show(containerd, "run", "-d", "--runtime", RUNTIME, "--rootfs", rootfs, two,
                    "/bin/sh", "-c", "trap 'exit 143' TERM; while :; do sleep 1; done");
            show(containerd, "task", "ls");
            show(containerd, "task", "metrics", two);
            showMetrics(containerd.directory().resolve("sbs").resolve(two).resolve("shim-monitor.sock"));
            show(containerd, "task", "kill", two);
            Thread.sleep(vm ? 3000 : 1500);
            show(containerd, "task", "ls");
            show(containerd, "task", "rm", two);
            show(containerd, "container", "rm", two);
        } finally {
            TempDirs.deleteRecursively(dir);
        }
        System.out.println("\ncleaned up: containerd stopped, shims and sandboxes gone, temp dirs deleted");
        System.exit(0);
    }

    /** A few lines of what the sandbox's management socket serves, and how much of it there is. */
    private static void showMetrics(Path socket) throws Exception {
        System.out.println("\n$ curl --unix-socket " + socket + " http://localhost/metrics   (excerpt)");
        String text = dev.katashim.metrics.server.HttpClient.getBlocking(socket, "/metrics", "text/plain",
                java.time.Duration.ofSeconds(10)).body();
        java.util.regex.Pattern wanted = java.util.regex.Pattern.compile(
                "^(kata_shim_rpc_durations_histogram_milliseconds_count|kata_shim_agent_rpc_durations_histogram_milliseconds_count"
                        + "\\{action=\"grpc\\.(CreateContainer|StartContainer|CreateSandbox)Request|kata_shim_threads|kata_shim_process_resident_memory_bytes"
                        + "|kata_hypervisor_scrape_count|kata_hypervisor_threads|kata_guest_load|kata_agent_process_resident)");
        text.lines().filter(l -> wanted.matcher(l).find()).filter(l -> !l.endsWith(" 0")).forEach(System.out::println);
        long families = text.lines().filter(l -> l.startsWith("# TYPE ")).count();
        long samples = text.lines().filter(l -> !l.startsWith("#") && !l.isBlank()).count();
        System.out.println("... " + families + " metric families, " + samples + " samples in all");
    }

    private static void show(PrivateContainerd containerd, String... args) {
        System.out.println("\n$ ctr " + String.join(" ", args));
        CommandResult result = containerd.ctr(args);
        System.out.print(result.stdout());
        if (!result.stderr().isBlank()) {
            System.out.print(result.stderr());
        }
        System.out.println("(exit " + result.exitCode() + ")");
    }
}
