package dev.katashim.vmm.none;

import dev.katashim.ttrpc.transport.Endpoint;
import dev.katashim.vmm.Hypervisor;
import dev.katashim.vmm.HypervisorMetrics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The no-VM sandbox (hypervisor type {@code none}): the guest agent runs as a host child process
 * on a unix socket in the sandbox directory. Containers then run on the host with runc, with NO
 * VM isolation; it exists for development and fast tests, and says so when it starts.
 */
public final class HostAgentHypervisor implements Hypervisor {
    private static final Logger log = LoggerFactory.getLogger(HostAgentHypervisor.class);

    private final List<String> agentCommand;
    private final CompletableFuture<Integer> exited = new CompletableFuture<>();
    private volatile Process agent;
    private volatile Endpoint endpoint;

    /** {@code agentCommand}: how to run the guest agent (its launcher script), before our flags. */
    public HostAgentHypervisor(List<String> agentCommand) {
        this.agentCommand = List.copyOf(agentCommand);
    }

    /** Where the host agent keeps its state (runc's among it) in a sandbox directory. */
    public static Path stateDir(Path sandboxDir) {
        return sandboxDir.resolve("agent");
    }

    /**
     * The runc root of the host agent's containers: {@code delete} force-deletes what a dead
     * shim's agent left there (the guest agent puts runc's state under its state directory).
     */
    public static Path runcRoot(Path sandboxDir) {
        return stateDir(sandboxDir).resolve("runc");
    }

    @Override
    public String kind() {
        return "none";
    }

    @Override
    public boolean isolated() {
        return false;
    }

    @Override
    public void start(Path sandboxDir, Placement placement) throws IOException {
        log.warn("sandbox {}: hypervisor 'none': the agent runs on the host and containers get NO VM isolation",
                sandboxDir.getFileName());
        endpoint = new Endpoint.UnixPath(sandboxDir.resolve("agent.sock"));
        List<String> command = new ArrayList<>(placement.launchPrefix());
        command.addAll(agentCommand);
        command.addAll(List.of("--host-mode", "--listen", endpoint.toString(), "--state-dir", stateDir(sandboxDir).toString(),
                "--cgroup-parent", placement.containerCgroupParent()));
        Path logFile = sandboxDir.resolve("agent.log");
        Process started = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .start();
        agent = started;
        started.onExit().thenAccept(p -> exited.complete(p.exitValue()));
        log.info("sandbox {}: host agent pid {} on {} (log {})", sandboxDir.getFileName(), started.pid(), endpoint, logFile);
    }

    @Override
    public Endpoint agentEndpoint() {
        return endpoint;
    }

    @Override
    public long pid() {
        Process p = agent;
        return p == null ? 0 : p.pid();
    }

    @Override
    public CompletableFuture<Integer> exited() {
        return exited;
    }

    /** The agent counts nothing a VMM would (no vCPUs, no seccomp of its own): those series stay absent. */
    @Override
    public HypervisorMetrics metrics() {
        return HypervisorMetrics.NONE;
    }

    @Override
    public void stop(Duration grace) {
        Process p = agent;
        if (p == null || !p.isAlive()) {
            return;
        }
        if (grace.isZero() && !AotTraining.active()) {
            p.destroyForcibly();
            p.onExit().join();
            return;
        }
        p.destroy();
        try {
            if (!p.waitFor(Math.max(grace.toMillis(), AotTraining.active() ? 10_000 : 0), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
