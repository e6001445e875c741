package dev.katashim.it.demo;

import dev.katashim.it.support.BusyboxRootfs;
import dev.katashim.it.support.CommandResult;
import dev.katashim.it.support.PrivateContainerd;
import dev.katashim.it.support.TempDirs;

import java.nio.file.Path;

/**
 * The main job: a private containerd runs busybox containers through our
 * containerd-shim-kata-v2 ({@code --runtime io.containerd.kata.v2}), printing each ctr command
 * and what it answered.
 */
public final class ShimDemo {
    private static final String RUNTIME = "io.containerd.kata.v2";

    public static void main(String[] args) throws Exception {
        Path repo = Path.of("").toAbsolutePath();
        Path dir = TempDirs.createShort("ktd");
        try (PrivateContainerd containerd = PrivateContainerd.builder().prependToPath(repo.resolve("bin"))
                .environment("KATA_CONF_FILE", dev.katashim.it.shim.KataConfigs.noVm(dir).toString()).start()) {
            String rootfs = BusyboxRootfs.create(dir.resolve("rootfs")).path().toString();
            System.out.println("private containerd " + containerd.grpcAddress() + ", namespace " + containerd.namespace()
                    + ", our shim from " + repo.resolve("bin/containerd-shim-kata-v2"));

            String one = containerd.uniqueId("hello");
            show(containerd, "run", "--rm", "--runtime", RUNTIME, "--rootfs", rootfs, one,
                    "/bin/sh", "-c", "echo hello from $(hostname); cat /proc/1/cmdline | tr '\\0' ' '; echo; exit 3");

            String two = containerd.uniqueId("sleeper");
            show(containerd, "run", "-d", "--runtime", RUNTIME, "--rootfs", rootfs, two,
                    "/bin/sh", "-c", "trap 'exit 143' TERM; while :; do sleep 1; done");
            show(containerd, "task", "ls");
            show(containerd, "task", "kill", two);
            Thread.sleep(1500);
            show(containerd, "task", "ls");
            show(containerd, "task", "rm", two);
            show(containerd, "container", "rm", two);
        } finally {
            TempDirs.deleteRecursively(dir);
        }
        System.out.println("\ncleaned up: containerd stopped, shims and sandboxes gone, temp dirs deleted");
        System.exit(0);
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
