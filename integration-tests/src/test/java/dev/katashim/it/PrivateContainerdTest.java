package dev.katashim.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.katashim.it.support.BusyboxRootfs;
import dev.katashim.it.support.CommandResult;
import dev.katashim.it.support.CommandTimedOutException;
import dev.katashim.it.support.ExternalCommand;
import dev.katashim.it.support.LinuxProcess;
import dev.katashim.it.support.Mounts;
import dev.katashim.it.support.PrivateContainerd;
import dev.katashim.it.support.PrivateContainerdBuilder;
import dev.katashim.it.support.Processes;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The harness itself, against the host's containerd 1.6 and runc. */
class PrivateContainerdTest {
    /**
     * Long enough for ctr to have created and started its task on a loaded machine (1 s could end it
     * before the task existed), far shorter than the task's sleep 60.
     */
    private static final Duration CTR_TIMEOUT_AFTER_ITS_TASK_STARTED = Duration.ofSeconds(10);

    @TempDir
    static Path scratch;

    private static BusyboxRootfs rootfs;
    private static PrivateContainerd containerd;

    @BeforeAll
    static void startContainerd() {
        rootfs = BusyboxRootfs.create(scratch.resolve("rootfs"));
        containerd = PrivateContainerd.start();
    }

    @AfterAll
    static void stopContainerd() {
        if (containerd != null) {
            containerd.close();
        }
    }

    @Test
    void runsAContainerThroughRuncAndRemovesIt() {
        String id = containerd.uniqueId("echo");

        CommandResult run = containerd.ctr("run", "--rm", "--rootfs", rootfs.path().toString(), id, "/bin/echo", "hello");

        assertThat(run.exitCode()).as(run.toString()).isZero();
        assertThat(run.stdout()).isEqualTo("hello\n");
        assertThat(containerd.ctr("container", "ls", "-q").stdout()).doesNotContain(id);
    }

    @Test
    void passesOnTheTaskExitCodeAndStillRemovesTheContainer() {
        String id = containerd.uniqueId("exit");

        CommandResult run = containerd.ctr("run", "--rm", "--rootfs", rootfs.path().toString(), id,
                "/bin/sh", "-c", "echo bye >&2; exit 3");

        assertThat(run.exitCode()).as(run.toString()).isEqualTo(3);
        assertThat(run.stderr()).contains("bye");
        assertThat(containerd.ctr("container", "ls", "-q").stdout()).doesNotContain(id);
    }

    @Test
    void feedsStdinToTheContainer() {
        String id = containerd.uniqueId("read");

        // containerd 1.6's ctr never passes stdin's EOF on (a plain "cat" would hang): read one line only.
        CommandResult run = containerd.ctrWithInput("through the pipe\n".getBytes(StandardCharsets.UTF_8),
                Duration.ofSeconds(30), "run", "--rm", "--rootfs", rootfs.path().toString(), id,
                "/bin/sh", "-c", "read line; echo \"got $line\"");

        assertThat(run.exitCode()).as(run.toString()).isZero();
        assertThat(run.stdout()).isEqualTo("got through the pipe\n");
    }

    @Test
    void resolvesARelativeRootfsAgainstCtrsWorkingDirectory() {
        // ctr makes --rootfs absolute itself (filepath.Abs); ctr runs in this JVM's working directory.
        Path relative = Path.of("").toAbsolutePath().relativize(rootfs.path());
        assertThat(relative).isRelative();
        String id = containerd.uniqueId("rel");

        CommandResult run = containerd.ctr("run", "--rm", "--rootfs", relative.toString(), id, "/bin/echo", "relative");

        assertThat(run.exitCode()).as(run.toString()).isZero();
        assertThat(run.stdout()).isEqualTo("relative\n");
    }

    @Test
    void runsContainerdWithItsOwnSockets() throws IOException {
        assertThat(containerd.namespace()).startsWith("kt-");
        assertThat(containerd.grpcAddress().toString().length()).isLessThan(60);
        assertThat(containerd.ttrpcAddress()).exists();
        assertThat(Files.readString(containerd.logFile())).contains("containerd successfully booted");
        assertThat(pluginStatus(containerd, "io.containerd.grpc.v1", "cri")).isEmpty();
        assertThat(pluginStatus(containerd, "io.containerd.runtime.v2", "task")).hasValue("ok");
    }

    @Test
    void closeLeavesNothingBehind() throws IOException {
        PrivateContainerd own = PrivateContainerd.start();
        String id = own.uniqueId("sleep");
        long taskPid;
        try {
            CommandResult run = own.ctr("run", "-d", "--rootfs", rootfs.path().toString(), id, "/bin/sleep", "60");
            assertThat(run.exitCode()).as(run.toString()).isZero();

            List<String> row = taskRow(own, id);
            assertThat(row.get(2)).isEqualTo("RUNNING");
            taskPid = Long.parseLong(row.get(1));
            assertThat(taskPid).isPositive();
            assertThat(Processes.isRunning(taskPid)).isTrue();
            assertThat(shimsOf(own)).hasSize(1);
            // The detached task's stdio FIFOs went to our dir, not the shared /run/containerd/fifo.
            assertThat(own.directory().resolve("fifo")).isNotEmptyDirectory();
            mountNestedTmpfs(own.directory().resolve("mnt"));
            assertThat(Mounts.below(own.directory())).hasSize(2);
        } finally {
            own.close();
        }

        assertNothingLeftBy(own, id, taskPid);
    }

    @Test
    void closeCleansUpAfterContainerdAndTheShimWereKilled() throws InterruptedException {
        PrivateContainerd own = PrivateContainerd.start();
        String id = own.uniqueId("orphan");
        long taskPid;
        try {
            assertThat(own.ctr("run", "-d", "--rootfs", rootfs.path().toString(), id, "/bin/sleep", "60").exitCode())
                    .isZero();
            taskPid = Long.parseLong(taskRow(own, id).get(1));
            // What a SIGKILLed test run leaves: no containerd, no shim, but runc's container still running.
            kill(containerdPid(own));
            for (LinuxProcess shim : shimsOf(own)) {
                kill(shim.pid());
            }
            assertThat(Processes.isRunning(taskPid)).isTrue();
        } finally {
            own.close();
        }

        assertNothingLeftBy(own, id, taskPid);
    }

    @Test
    void aTimedOutCtrIsKilledButItsTaskLivesOnUntilClose() {
        PrivateContainerd own = PrivateContainerd.start();
        String id = own.uniqueId("slow");
        long taskPid;
        try {
            assertThatThrownBy(() -> own.ctrWithInput(new byte[0], CTR_TIMEOUT_AFTER_ITS_TASK_STARTED,
                    "run", "--rm", "--rootfs", rootfs.path().toString(), id, "/bin/sleep", "60"))
                    .isInstanceOf(CommandTimedOutException.class)
                    .hasMessageContaining("timed out after " + CTR_TIMEOUT_AFTER_ITS_TASK_STARTED.toMillis() + " ms");
            assertThat(Processes.matching(p -> p.commandLine().startsWith("ctr ") && p.commandLine().contains(id)))
                    .isEmpty();
            // ctr is only a client: the task it started keeps running.
            taskPid = Long.parseLong(taskRow(own, id).get(1));
        } finally {
            own.close();
        }

        assertNothingLeftBy(own, id, taskPid);
    }

    @Test
    void restartKeepsTheRunningTaskWhichItDrivesToItsEnd() throws InterruptedException {
        try (PrivateContainerd own = PrivateContainerd.start()) {
            String id = own.uniqueId("lasting");
            assertThat(own.ctr("run", "-d", "--rootfs", rootfs.path().toString(), id, "/bin/sleep", "60").exitCode()).isZero();
            List<String> before = taskRow(own, id);
            long containerdBefore = own.pid();

            own.restart();

            assertThat(own.pid()).isNotEqualTo(containerdBefore);
            assertThat(taskRow(own, id)).isEqualTo(before);
            assertThat(own.ctr("task", "kill", "-s", "KILL", id).exitCode()).isZero();
            assertThat(own.log()).containsPattern("(?s)starting containerd.*starting containerd");
        }
    }

    @Test
    void closeRemovesTheHostCgroupOfASandboxWhoseShimWasKilled() throws Exception {
        // what our shim, SIGKILLed, leaves: kata_overhead/<sandbox> with its VMM (a sleep stands in) in it
        Path hierarchy = Files.isDirectory(Path.of("/sys/fs/cgroup/memory")) ? Path.of("/sys/fs/cgroup/memory") : Path.of("/sys/fs/cgroup");
        PrivateContainerd own = PrivateContainerd.start();
        String sandbox = own.uniqueId("sbx");
        Path cgroup = Files.createDirectories(hierarchy.resolve("kata_overhead").resolve(sandbox));
        Process vmm = new ProcessBuilder("/bin/sleep", "60").start();
        try {
            Files.createDirectories(own.directory().resolve("sbs").resolve(sandbox));
            Files.writeString(cgroup.resolve("cgroup.procs"), Long.toString(vmm.pid()));
        } finally {
            own.close();
        }
        try {
            assertThat(cgroup).doesNotExist();
            assertThat(Processes.awaitGone(List.of(vmm.pid()), Duration.ofSeconds(5))).isEmpty();
        } finally {
            vmm.destroyForcibly().waitFor();
            Files.deleteIfExists(cgroup); // only if the sweep failed: nothing of this test may stay
        }
    }

    @Test
    void canKeepTheCriPlugin() {
        try (PrivateContainerd withCri = PrivateContainerd.builder().enableCri(true).start()) {
            assertThat(pluginStatus(withCri, "io.containerd.grpc.v1", "cri")).hasValue("ok");
        }
    }

    @Test
    void failsWithContainerdsLogWhenItCannotStartAndCleansUp() {
        PrivateContainerdBuilder broken = PrivateContainerd.builder().extraToml("this is = = not toml");

        assertThatThrownBy(broken::start)
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("exited with")
                .hasMessageContaining("toml")
                .satisfies(e -> assertThat(Path.of(e.getMessage().split(" ")[2])).doesNotExist());
    }

    /** The STATUS column of {@code ctr plugins ls} for one plugin, if it is listed. */
    private static Optional<String> pluginStatus(PrivateContainerd containerd, String type, String id) {
        CommandResult plugins = containerd.ctr("plugins", "ls");
        assertThat(plugins.exitCode()).as(plugins.toString()).isZero();
        return plugins.stdout().lines()
                .map(line -> List.of(line.trim().split("\\s+")))
                .filter(columns -> columns.get(0).equals(type) && columns.get(1).equals(id))
                .map(List::getLast)
                .findFirst();
    }

    /** TASK, PID, STATUS of one task in {@code ctr task ls}. */
    private static List<String> taskRow(PrivateContainerd containerd, String id) {
        CommandResult tasks = containerd.ctr("task", "ls");
        assertThat(tasks.exitCode()).as(tasks.toString()).isZero();
        return tasks.stdout().lines()
                .map(line -> List.of(line.trim().split("\\s+")))
                .filter(columns -> columns.getFirst().equals(id))
                .findFirst()
                .orElseThrow(() -> new AssertionError("task " + id + " not listed:\n" + tasks.stdout()));
    }

    private static List<LinuxProcess> shimsOf(PrivateContainerd containerd) {
        return Processes.matching(p -> p.commandLine().contains("containerd-shim-runc-v2")
                && p.commandLine().contains("-namespace " + containerd.namespace()));
    }

    /** Stands in for what a shim mounts (rootfs, shares): a mount with another mount inside it. */
    private static void mountNestedTmpfs(Path dir) throws IOException {
        Files.createDirectories(dir);
        assertThat(ExternalCommand.run(List.of("mount", "-t", "tmpfs", "kt-test", dir.toString()),
                Duration.ofSeconds(10)).exitCode()).isZero();
        Files.createDirectories(dir.resolve("inner"));
        assertThat(ExternalCommand.run(List.of("mount", "-t", "tmpfs", "kt-test", dir.resolve("inner").toString()),
                Duration.ofSeconds(10)).exitCode()).isZero();
    }

    /** SIGKILL one process only (a shim's container must survive it, as after a crash). */
    private static void kill(long pid) throws InterruptedException {
        ProcessHandle.of(pid).orElseThrow().destroyForcibly();
        assertThat(Processes.awaitGone(List.of(pid), Duration.ofSeconds(5))).isEmpty();
    }

    private static long containerdPid(PrivateContainerd containerd) {
        return Processes.matching(p -> p.commandLine().startsWith("/usr/bin/containerd --config "
                + containerd.directory())).getFirst().pid();
    }

    private static void assertNothingLeftBy(PrivateContainerd closed, String id, long taskPid) {
        Path dir = closed.directory();
        assertThat(dir).doesNotExist();
        assertThat(Mounts.below(dir)).isEmpty();
        assertThat(Processes.isRunning(taskPid)).as("task process %d running", taskPid).isFalse();
        assertThat(shimsOf(closed)).isEmpty();
        assertThat(Processes.matching(p -> p.commandLine().contains(dir.toString()))).isEmpty();
        assertThat(Path.of("/run/containerd/runc", closed.namespace())).doesNotExist();
        assertThat(cgroupsNamed(closed.namespace())).isEmpty();
        assertThat(closed.shimSocket(id)).doesNotExist();
    }

    private static List<Path> cgroupsNamed(String namespace) {
        try (Stream<Path> hierarchies = Files.list(Path.of("/sys/fs/cgroup"))) {
            return Stream.concat(Stream.of(Path.of("/sys/fs/cgroup")), hierarchies.toList().stream())
                    .map(h -> h.resolve(namespace))
                    .filter(Files::exists)
                    .toList();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
