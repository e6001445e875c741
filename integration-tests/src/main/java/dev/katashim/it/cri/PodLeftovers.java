package dev.katashim.it.cri;

import dev.katashim.it.support.ShimSockets;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * What a removed pod sandbox or container could leave on the host, found by its id: processes
 * (shim, QEMU, virtiofsd) naming it, mounts, its sandbox directory, its shim's socket, cgroups.
 * Empty when all is gone, as a user would check with ps, findmnt, ls.
 */
public final class PodLeftovers {
    private static final Path CGROUP_ROOT = Path.of("/sys/fs/cgroup");

    private PodLeftovers() {
    }

    public static List<String> of(CriNode node, String id) {
        List<String> found = new ArrayList<>();
        ProcessHandle.allProcesses()
                .filter(p -> p.info().commandLine().map(c -> c.contains(id)).orElse(false))
                .forEach(p -> found.add("process " + p.pid() + ": " + p.info().commandLine().orElse("")));
        try {
            Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
                    .filter(line -> line.contains(id)).forEach(line -> found.add("mount: " + line));
            if (Files.exists(node.sandboxRoot().resolve(id))) {
                found.add("sandbox directory " + node.sandboxRoot().resolve(id));
            }
            Path socket = ShimSockets.pathFor(node.containerd().grpcAddress(), CriNode.CRI_NAMESPACE, id);
            if (Files.exists(socket)) {
                found.add("shim socket " + socket);
            }
            found.addAll(cgroupsNaming(node, id));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return found;
    }

    /** Below the node's pod cgroups and /kata_overhead, in every hierarchy. */
    private static List<String> cgroupsNaming(CriNode node, String id) throws IOException {
        List<String> found = new ArrayList<>();
        List<Path> hierarchies;
        try (Stream<Path> list = Files.list(CGROUP_ROOT)) {
            hierarchies = list.filter(Files::isDirectory).toList();
        }
        for (Path hierarchy : hierarchies) {
            for (String top : List.of(node.cgroupParent().substring(1), "kata_overhead")) {
                Path dir = hierarchy.resolve(top);
                if (!Files.isDirectory(dir)) {
                    continue;
                }
                try (Stream<Path> walk = Files.walk(dir)) {
                    walk.filter(Files::isDirectory).filter(d -> d.getFileName().toString().contains(id))
                            .forEach(d -> found.add("cgroup " + d));
                }
            }
        }
        return found;
    }
}
