package dev.katashim.shim.sandbox;

import dev.katashim.shim.resource.SandboxResources;
import dev.katashim.sys.HostCommand;
import dev.katashim.vmm.none.HostAgentHypervisor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * What a dead shim left of its sandbox, for {@code delete}: the hypervisor (or host agent) it
 * started, the host agent's runc containers, the sandbox's cgroups and directory — removed in that
 * order, each step best effort and logged.
 */
public final class Leftovers {
    private static final Logger log = LoggerFactory.getLogger(Leftovers.class);

    private Leftovers() {
    }

    /** Whether the sandbox directory exists and no live shim serves it. */
    public static boolean abandoned(SandboxDirectory sandbox) {
        return Files.isDirectory(sandbox.path())
                && !SandboxDirectory.readPid(sandbox.shimPidFile()).map(Leftovers::running).orElse(false);
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

    /** Whether process {@code pid} runs for this sandbox: its command line names the sandbox directory. */
    static boolean startedFor(long pid, SandboxDirectory sandbox) {
        try {
            String commandLine = Files.readString(Path.of("/proc/" + pid + "/cmdline")).replace('\0', ' ');
            return commandLine.contains(sandbox.path().toString() + "/") && running(pid);
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    public static void cleanUp(SandboxDirectory sandbox) throws IOException {
        // QEMU gets SIGKILL when its shim dies (vmm-client's DiesWithParent); a host agent, or a
        // QEMU started without setpriv, is still there. The pid is checked against the sandbox
        // directory its command line names: a pid recycled since must not be killed.
        SandboxDirectory.readPid(sandbox.hypervisorPidFile()).filter(pid -> startedFor(pid, sandbox))
                .flatMap(ProcessHandle::of).ifPresent(p -> {
                    log.info("delete: killing pid {}, the hypervisor of dead shim's sandbox {}", p.pid(), sandbox.sandboxId());
                    p.destroyForcibly();
                    p.onExit().orTimeout(2, TimeUnit.SECONDS).exceptionally(t -> null).join();
                });
        Path runcRoot = HostAgentHypervisor.runcRoot(sandbox.path());
        if (Files.isDirectory(runcRoot)) {
            try (Stream<Path> ids = Files.list(runcRoot)) {
                for (Path state : ids.toList()) {
                    List<String> command = List.of("runc", "--root", runcRoot.toString(), "delete", "--force", state.getFileName().toString());
                    try {
                        HostCommand.run(command, Duration.ofSeconds(3), String.join(" ", command));
                    } catch (IOException e) {
                        log.warn("delete: {}", e.getMessage());
                    }
                }
            }
        }
        Optional<String> recordedCgroup;
        try {
            recordedCgroup = Optional.of(Files.readString(sandbox.hostCgroupFile()).strip()).filter(p -> p.startsWith("/"));
        } catch (IOException none) {
            recordedCgroup = Optional.empty();
        }
        SandboxResources.removeLeftoverCgroups(sandbox.sandboxId(), recordedCgroup);
        sandbox.delete();
    }
}
