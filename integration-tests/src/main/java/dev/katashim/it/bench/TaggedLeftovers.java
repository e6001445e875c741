package dev.katashim.it.bench;

import dev.katashim.it.support.LinuxProcess;
import dev.katashim.it.support.PrivateContainerd;
import dev.katashim.it.support.Processes;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** What a benchmark's sandboxes left on the host, found by the tag that every one of their ids holds. */
final class TaggedLeftovers {
    private TaggedLeftovers() {
    }

    /** Shim sockets of {@code ids}, and every process, mount, sandbox directory, overhead cgroup, task and container naming {@code tag}. */
    static List<String> find(PrivateContainerd containerd, String tag, List<String> ids) throws IOException {
        List<String> left = new ArrayList<>();
        for (String id : ids) {
            Path socket = containerd.shimSocket(id);
            if (Files.exists(socket)) {
                left.add("shim socket " + socket);
            }
        }
        Processes.matching(p -> p.commandLine().contains(tag)).stream().map(LinuxProcess::toString).map(p -> "process " + p).forEach(left::add);
        Files.readAllLines(Path.of("/proc/self/mountinfo")).stream().filter(l -> l.contains(tag)).map(l -> "mount " + l).forEach(left::add);
        Path sandboxes = containerd.directory().resolve("sbs");
        if (Files.isDirectory(sandboxes)) {
            try (Stream<Path> list = Files.list(sandboxes)) {
                list.filter(p -> p.getFileName().toString().contains(tag)).map(p -> "sandbox directory " + p).forEach(left::add);
            }
        }
        Path cgroups = Path.of("/sys/fs/cgroup");
        try (Stream<Path> hierarchies = Files.list(cgroups)) {
            for (Path hierarchy : Stream.concat(Stream.of(cgroups), hierarchies.filter(Files::isDirectory)).toList()) {
                Path overhead = hierarchy.resolve("kata_overhead");
                if (Files.isDirectory(overhead)) {
                    try (Stream<Path> list = Files.list(overhead)) {
                        list.filter(p -> p.getFileName().toString().contains(tag)).map(p -> "cgroup " + p).forEach(left::add);
                    }
                }
            }
        }
        containerd.ctr("task", "ls", "-q").stdout().lines().filter(l -> l.contains(tag)).map(l -> "containerd task " + l).forEach(left::add);
        containerd.ctr("c", "ls", "-q").stdout().lines().filter(l -> l.contains(tag)).map(l -> "containerd container " + l).forEach(left::add);
        return left;
    }
}
