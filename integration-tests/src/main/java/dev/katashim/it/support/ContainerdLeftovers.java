package dev.katashim.it.support;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Removes whatever a stopped private containerd and its shims can leave behind, both in its own
 * temp dir and in the places every containerd on the machine shares (runc state, shim sockets, cgroups).
 * Everything is found by this instance's temp dir, grpc address or namespace, which are unique to it.
 */
final class ContainerdLeftovers {

    /** Hard-coded in containerd 1.6 and its runc shim, whatever the configured state dir. */
    static final Path SHARED_RUN_DIR = Path.of("/run/containerd");
    private static final Path CGROUP_ROOT = Path.of("/sys/fs/cgroup");
    private static final String SANDBOX_CGROUP_PARENT = "kata_overhead";
    private static final Pattern RUNC_STATE_PID = Pattern.compile("\"pid\":\\s*(\\d+)");
    private static final Pattern SHIM_ID_ARGUMENT = Pattern.compile("(?:^| )-id (\\S+)");
    private static final Duration QUICK = Duration.ofSeconds(10);

    private final Path tempDir;
    private final Path grpcSocket;
    private final String namespace;
    private final Path bundlesDir;
    private final List<String> problems = new ArrayList<>();

    ContainerdLeftovers(Path tempDir, Path grpcSocket, String namespace, Path stateDir) {
        this.tempDir = tempDir;
        this.grpcSocket = grpcSocket;
        this.namespace = namespace;
        this.bundlesDir = stateDir.resolve("io.containerd.runtime.v2.task").resolve(namespace);
    }

    static Path runcStateDir(String namespace) {
        return SHARED_RUN_DIR.resolve("runc").resolve(namespace);
    }

    /** Processes that are ours: started with our paths or namespace, or running inside our temp dir (shims: a bundle). */
    boolean isOurs(LinuxProcess process) {
        String tempPrefix = tempDir + "/";
        return process.commandLine().contains(tempPrefix)
                || (process.commandLine() + " ").contains("-namespace " + namespace + " ")
                || process.workingDirectory().map(cwd -> cwd.startsWith(tempDir)).orElse(false);
    }

    /** Sweeps everything; returns a description of each thing that could not be cleaned (empty when all is well). */
    List<String> sweep() {
        List<LinuxProcess> ourProcesses = Processes.matching(this::isOurs);
        Set<String> containerIds = containerIds(ourProcesses);

        attempt("kill leftover processes", () -> Processes.killTrees(
                ourProcesses.stream().map(LinuxProcess::pid).toList()));
        attempt("delete runc containers", this::deleteRuncContainers);
        attempt("remove cgroups", this::removeCgroups);
        attempt("remove sandbox cgroups", () -> removeSandboxCgroups(containerIds));
        attempt("remove shim sockets", () -> removeShimSockets(containerIds));
        attempt("check for surviving processes", this::checkNoProcessSurvived);
        attempt("unmount", () -> {
            List<Path> stillMounted = Mounts.unmountAllBelow(tempDir);
            if (!stillMounted.isEmpty()) {
                throw new IllegalStateException("still mounted: " + stillMounted);
            }
        });
        attempt("delete " + tempDir, () -> TempDirs.deleteRecursively(tempDir));
        return List.copyOf(problems);
    }

    private Set<String> containerIds(List<LinuxProcess> ourProcesses) {
        Set<String> ids = new TreeSet<>();
        ids.addAll(childNames(bundlesDir));
        ids.addAll(childNames(runcStateDir(namespace)));
        ids.addAll(childNames(tempDir.resolve("sbs")));
        for (LinuxProcess process : ourProcesses) {
            Matcher m = SHIM_ID_ARGUMENT.matcher(process.commandLine());
            if (m.find()) {
                ids.add(m.group(1));
            }
        }
        return ids;
    }

    /** runc's own force-delete kills a container's processes even after its shim died, and drops its cgroup. */
    private void deleteRuncContainers() throws InterruptedException {
        List<Long> initPids = new ArrayList<>();
        deleteRuncContainers(runcStateDir(namespace), initPids);
        // our shim's sandboxes: the agent's runc root is <sandbox>/agent/runc
        for (String sandbox : childNames(tempDir.resolve("sbs"))) {
            deleteRuncContainers(tempDir.resolve("sbs").resolve(sandbox).resolve("agent").resolve("runc"), initPids);
        }
        List<Long> survivors = Processes.awaitGone(initPids, Duration.ofSeconds(5));
        if (!survivors.isEmpty()) {
            throw new IllegalStateException("container processes survived runc delete --force: " + survivors);
        }
    }

    private static void deleteRuncContainers(Path runcRoot, List<Long> initPids) {
        for (String id : childNames(runcRoot)) {
            List<String> runc = List.of("runc", "--root", runcRoot.toString());
            Matcher pid = RUNC_STATE_PID.matcher(ExternalCommand.run(concat(runc, "state", id), QUICK).stdout());
            if (pid.find()) {
                initPids.add(Long.parseLong(pid.group(1)));
            }
            ExternalCommand.run(concat(runc, "delete", "--force", id), QUICK);
        }
        TempDirs.deleteRecursively(runcRoot);
    }

    private static List<String> concat(List<String> head, String... tail) {
        List<String> all = new ArrayList<>(head);
        all.addAll(List.of(tail));
        return all;
    }

    /** ctr puts containers in cgroup /&lt;namespace&gt;/&lt;id&gt; (in every v1 hierarchy, or the v2 tree). */
    private void removeCgroups() throws IOException, InterruptedException {
        List<Path> ourCgroups = new ArrayList<>();
        try (Stream<Path> hierarchies = Stream.concat(Stream.of(CGROUP_ROOT), childDirs(CGROUP_ROOT))) {
            hierarchies.map(h -> h.resolve(namespace)).filter(Files::isDirectory).forEach(ourCgroups::add);
        }
        for (Path cgroup : ourCgroups) {
            for (Path dir : dirsDeepestFirst(cgroup)) {
                killMembers(dir);
            }
        }
        for (Path cgroup : ourCgroups) {
            for (Path dir : dirsDeepestFirst(cgroup)) {
                removeCgroupDir(dir);
            }
        }
    }

    private static void killMembers(Path cgroupDir) throws IOException, InterruptedException {
        Path procs = cgroupDir.resolve("cgroup.procs");
        if (!Files.exists(procs)) {
            return;
        }
        List<Long> pids = Files.readAllLines(procs).stream().filter(s -> !s.isBlank()).map(Long::parseLong).toList();
        Processes.killTrees(pids);
        List<Long> survivors = Processes.awaitGone(pids, Duration.ofSeconds(5));
        if (!survivors.isEmpty()) {
            throw new IllegalStateException("processes in cgroup " + cgroupDir + " survived SIGKILL: " + survivors);
        }
    }

    /** rmdir fails with EBUSY until the last member has been reaped; give dying processes a moment. */
    private static void removeCgroupDir(Path dir) throws IOException, InterruptedException {
        for (int attempt = 0; ; attempt++) {
            try {
                Files.deleteIfExists(dir);
                return;
            } catch (IOException e) {
                if (attempt >= 40) {
                    throw e;
                }
                Thread.sleep(50);
            }
        }
    }

    /**
     * Our shim puts each sandbox's VMM in {@code kata_overhead/<sandbox id>} (every v1 hierarchy, or
     * the v2 tree), as upstream; a shim killed before its teardown leaves it.
     */
    private void removeSandboxCgroups(Set<String> sandboxIds) throws IOException, InterruptedException {
        List<Path> ourCgroups = new ArrayList<>();
        try (Stream<Path> hierarchies = Stream.concat(Stream.of(CGROUP_ROOT), childDirs(CGROUP_ROOT))) {
            for (Path hierarchy : hierarchies.toList()) {
                for (String id : sandboxIds) {
                    Path cgroup = hierarchy.resolve(SANDBOX_CGROUP_PARENT).resolve(id);
                    if (Files.isDirectory(cgroup)) {
                        ourCgroups.add(cgroup);
                    }
                }
            }
        }
        for (Path cgroup : ourCgroups) {
            for (Path dir : dirsDeepestFirst(cgroup)) {
                killMembers(dir);
                removeCgroupDir(dir);
            }
        }
    }

    /** Shim sockets are /run/containerd/s/&lt;sha256 of "grpc-address/namespace/id"&gt;; a killed shim leaves its socket. */
    private void removeShimSockets(Set<String> containerIds) throws IOException {
        for (String id : containerIds) {
            Files.deleteIfExists(ShimSockets.pathFor(grpcSocket, namespace, id));
        }
    }

    private void checkNoProcessSurvived() {
        List<LinuxProcess> survivors = Processes.matching(this::isOurs);
        if (!survivors.isEmpty()) {
            throw new IllegalStateException("processes survived: " + survivors);
        }
    }

    private void attempt(String step, Step action) {
        try {
            action.run();
        } catch (Exception e) {
            problems.add(step + ": " + e);
        }
    }

    @FunctionalInterface
    private interface Step {
        void run() throws Exception;
    }

    private static List<String> childNames(Path dir) {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> children = Files.list(dir)) {
            return children.map(p -> p.getFileName().toString()).sorted().toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    private static Stream<Path> childDirs(Path dir) throws IOException {
        try (Stream<Path> children = Files.list(dir)) {
            return children.filter(Files::isDirectory).toList().stream();
        }
    }

    private static List<Path> dirsDeepestFirst(Path top) throws IOException {
        try (Stream<Path> tree = Files.walk(top)) {
            return tree.filter(Files::isDirectory)
                    .sorted(Comparator.comparingInt(Path::getNameCount).reversed())
                    .toList();
        }
    }
}
