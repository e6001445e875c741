package dev.katashim.shim.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.katashim.protocols.containerd.task.v2.DeleteResponse;
import dev.katashim.shim.events.TaskEvents;
import dev.katashim.shim.oci.ContainerType;
import dev.katashim.shim.sandbox.SandboxDirectory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * {@code delete}: containerd runs it after every task's connection closes, and after a shim died.
 * When the shim serving the sandbox is gone, it kills what that shim started (the hypervisor or
 * host agent, and the agent's runc containers), unmounts the rootfs and removes the sandbox
 * directory. It is idempotent, leaves a live shim's sandbox alone, and reports exit status 137
 * as upstream, in a {@code DeleteResponse} on stdout. containerd kills it after 5 s.
 */
final class DeleteCommand {
    private static final Logger log = LoggerFactory.getLogger(DeleteCommand.class);
    private static final int KILLED_STATUS = 137;

    private DeleteCommand() {
    }

    static int run(ShimArgs args, PrintStream out) {
        Path bundle = Path.of(args.bundle().isEmpty() ? System.getProperty("user.dir") : args.bundle());
        try {
            SandboxDirectory sandbox = SandboxDirectory.of(SandboxDirectory.root(), sandboxId(args.id(), bundle));
            if (Files.isDirectory(sandbox.path()) && !shimAlive(sandbox)) {
                cleanUp(sandbox);
            }
            unmountIfMounted(bundle.resolve("rootfs"));
            removeDeadShimSocket(bundle.resolve("address"));
        } catch (Exception e) {
            // still answer: containerd must be able to remove the task
            log.warn("delete {}: {}", args.id(), e.toString());
        }
        DeleteResponse response = DeleteResponse.newBuilder().setExitStatus(KILLED_STATUS)
                .setExitedAt(TaskEvents.timestamp(Instant.now())).setPid(0).build();
        try {
            response.writeTo(out);
        } catch (IOException e) {
            return 1;
        }
        out.flush();
        return 0;
    }

    private static String sandboxId(String id, Path bundle) {
        try {
            JsonNode annotations = new ObjectMapper().readTree(bundle.resolve("config.json").toFile()).path("annotations");
            Map<String, String> map = new HashMap<>();
            annotations.fields().forEachRemaining(e -> map.put(e.getKey(), e.getValue().asText()));
            return ContainerType.of(id, map).sandboxId();
        } catch (Exception e) {
            return id;
        }
    }

    private static boolean shimAlive(SandboxDirectory sandbox) {
        return pidFrom(sandbox.resolve("shim.pid")).map(DeleteCommand::running).orElse(false);
    }

    /** Alive and not a zombie: a killed shim stays a zombie until its reaper gets to it. */
    static boolean running(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            char state = stat.charAt(stat.lastIndexOf(')') + 2);
            return state != 'Z' && state != 'X';
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    private static java.util.Optional<Long> pidFrom(Path file) {
        try {
            return java.util.Optional.of(Long.parseLong(Files.readString(file).trim()));
        } catch (IOException | NumberFormatException e) {
            return java.util.Optional.empty();
        }
    }

    private static void cleanUp(SandboxDirectory sandbox) throws IOException, InterruptedException {
        pidFrom(sandbox.pidFile()).flatMap(ProcessHandle::of).ifPresent(p -> {
            p.destroyForcibly();
            p.onExit().orTimeout(2, TimeUnit.SECONDS).exceptionally(t -> null).join();
        });
        Path runcRoot = sandbox.resolve("agent").resolve("runc");
        if (Files.isDirectory(runcRoot)) {
            try (var ids = Files.list(runcRoot)) {
                for (Path state : ids.toList()) {
                    run(List.of("runc", "--root", runcRoot.toString(), "delete", "--force", state.getFileName().toString()));
                }
            }
        }
        String sandboxId = sandbox.path().getFileName().toString();
        dev.katashim.shim.sandbox.SandboxMonitor.removeLeftoverCgroup(sandboxId);
        removeEmptyCgroups(dev.katashim.shim.sandbox.SandboxMonitor.cgroupPath(sandboxId));
        sandbox.delete();
    }

    /**
     * runc leaves the parents of container cgroups it created in every hierarchy (pids, devices,
     * freezer, ...): once their processes are gone they are empty directories, removed deepest first.
     */
    private static void removeEmptyCgroups(String cgroupPath) throws IOException {
        Path root = Path.of("/sys/fs/cgroup");
        List<Path> hierarchies = new java.util.ArrayList<>(List.of(root));
        try (var list = Files.list(root)) {
            list.filter(Files::isDirectory).forEach(hierarchies::add);
        }
        for (Path hierarchy : hierarchies) {
            Path top = hierarchy.resolve(cgroupPath.substring(1));
            if (!Files.isDirectory(top)) {
                continue;
            }
            try (var walk = Files.walk(top)) {
                for (Path dir : walk.filter(Files::isDirectory).sorted(java.util.Comparator.reverseOrder()).toList()) {
                    try {
                        Files.delete(dir);
                    } catch (IOException busy) {
                        log.warn("delete: cannot remove cgroup {}: {}", dir, busy.getMessage());
                    }
                }
            }
        }
    }

    /** A killed shim leaves its socket file behind; a live one (a pod's other containers) keeps it. */
    private static void removeDeadShimSocket(Path addressFile) throws IOException {
        if (!Files.isRegularFile(addressFile)) {
            return;
        }
        String address = Files.readString(addressFile).trim();
        if (!address.startsWith("unix://")) {
            return;
        }
        Path socket = Path.of(address.substring("unix://".length()));
        try (var probe = java.nio.channels.SocketChannel.open(java.net.StandardProtocolFamily.UNIX)) {
            probe.connect(java.net.UnixDomainSocketAddress.of(socket));
        } catch (IOException refused) {
            Files.deleteIfExists(socket);
        }
    }

    private static void unmountIfMounted(Path rootfs) throws IOException, InterruptedException {
        String target = " " + rootfs.toAbsolutePath() + " ";
        boolean mounted = Files.readAllLines(Path.of("/proc/self/mountinfo")).stream().anyMatch(l -> l.contains(target));
        if (mounted) {
            run(List.of("umount", "-l", rootfs.toString()));
        }
    }

    private static void run(List<String> command) {
        try {
            dev.katashim.shim.sys.HostCommand.run(command, java.time.Duration.ofSeconds(3), String.join(" ", command));
        } catch (IOException e) {
            log.warn("delete: {}", e.getMessage()); // best effort: what could not be cleaned is logged
        }
    }
}
