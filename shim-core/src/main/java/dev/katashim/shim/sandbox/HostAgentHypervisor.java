package dev.katashim.shim.sandbox;

import dev.katashim.ttrpc.transport.Endpoint;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
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
    private Process agent;
    private Endpoint endpoint;
    private final CompletableFuture<Integer> exited = new CompletableFuture<>();

    /** {@code agentCommand}: how to run the guest agent (its launcher script), before our flags. */
    public HostAgentHypervisor(List<String> agentCommand) {
        this.agentCommand = List.copyOf(agentCommand);
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
    public void start(SandboxDirectory dir, Placement placement) throws IOException {
        log.warn("sandbox {}: hypervisor 'none': the agent runs on the host and containers get NO VM isolation",
                dir.path().getFileName());
        Path socket = dir.resolve("agent.sock");
        endpoint = new Endpoint.UnixPath(socket);
        List<String> command = new ArrayList<>(placement.launchPrefix());
        command.addAll(agentCommand);
        command.addAll(List.of("--host-mode", "--listen", endpoint.toString(), "--state-dir", dir.resolve("agent").toString(),
                "--cgroup-parent", placement.containerCgroupParent()));
        Path logFile = dir.resolve("agent.log");
        agent = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .start();
        Files.writeString(dir.pidFile(), Long.toString(agent.pid()));
        agent.onExit().thenAccept(p -> exited.complete(p.exitValue()));
        log.info("sandbox {}: host agent pid {} on {} (log {})", dir.path().getFileName(), agent.pid(), endpoint, logFile);
    }

    @Override
    public Endpoint agentEndpoint() {
        return endpoint;
    }

    @Override
    public long pid() {
        return agent == null ? 0 : agent.pid();
    }

    @Override
    public CompletableFuture<Integer> exited() {
        return exited;
    }

    @Override
    public void stop(Duration grace) {
        if (agent == null || !agent.isAlive()) {
            return;
        }
        if (grace.isZero() && !AotTraining.active()) {
            agent.destroyForcibly();
            agent.onExit().join();
            return;
        }
        agent.destroy();
        try {
            if (!agent.waitFor(Math.max(grace.toMillis(), AotTraining.active() ? 10_000 : 0), TimeUnit.MILLISECONDS)) {
                agent.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            agent.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
