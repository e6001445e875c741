package dev.katashim.shim.sandbox;

import dev.katashim.agent.client.AgentClient;
import dev.katashim.metrics.ShimMetrics;
import dev.katashim.protocols.kata.agent.CreateSandboxRequest;
import dev.katashim.protocols.kata.agent.DestroySandboxRequest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Duration;
import java.util.Collection;
import java.util.function.Supplier;
import java.util.concurrent.atomic.AtomicBoolean;

/** One pod's sandbox: its hypervisor (or host agent), the agent connection, its directory. */
public final class Sandbox {
    private static final Logger log = LoggerFactory.getLogger(Sandbox.class);

    private final String id;
    private final Hypervisor hypervisor;
    private final SandboxDirectory directory;
    private final AgentClient agent;
    private final SandboxMonitor monitor;
    private final AtomicBoolean destroying = new AtomicBoolean();
    private final java.util.concurrent.CompletableFuture<Void> destroyed = new java.util.concurrent.CompletableFuture<>();

    private final ShimMetrics metrics;

    private Sandbox(String id, Hypervisor hypervisor, SandboxDirectory directory, AgentClient agent, SandboxMonitor monitor,
                    ShimMetrics metrics) {
        this.metrics = metrics;
        this.id = id;
        this.hypervisor = hypervisor;
        this.directory = directory;
        this.agent = agent;
        this.monitor = monitor;
    }

    /**
     * What a sandbox reports to: the shim's metrics (agent calls are timed into them), and the
     * containers it has, for the pod-overhead sampler.
     */
    public record Services(ShimMetrics metrics, Supplier<Collection<String>> containerIds) {
    }

    /**
     * Starts the hypervisor and waits for its agent to answer. The sandbox is not created in the
     * agent yet ({@link #create}): a shim boots as soon as it is started, before containerd's
     * Create arrives with the details.
     */
    public static Sandbox boot(String id, Hypervisor hypervisor, SandboxDirectory directory, Services services,
                               Duration dialTimeout) throws IOException, InterruptedException {
        directory.create();
        // lets `delete` tell a live shim's sandbox from a dead one's
        java.nio.file.Files.writeString(directory.resolve("shim.pid"), Long.toString(ProcessHandle.current().pid()));
        SandboxMonitor monitor = SandboxMonitor.prepare(id);
        try {
            long begin = System.nanoTime();
            hypervisor.start(directory, new Hypervisor.Placement(monitor.launchPrefix(), monitor::adopt, monitor.cgroupParent("/kata-shim")));
            long booted = System.nanoTime();
            services.metrics().recordStartPhase("vm_boot", booted - begin);
            AgentClient agent;
            try {
                agent = AgentClient.builder(hypervisor.agentEndpoint())
                        .observer((action, nanos, outcome) -> services.metrics().observeAgentRpc(action, nanos))
                        .dialTimeout(dialTimeout).connect();
                services.metrics().recordStartPhase("agent_ready", System.nanoTime() - booted);
            } catch (IOException e) {
                // name the channel and where to look: the guest's console says why it never answered
                throw new IOException(e.getMessage() + hypervisor.consoleLog().map(log -> "; the guest's console log is " + log).orElse(""), e);
            }
            monitor.start(services.metrics(), directory, hypervisor, agent, services.containerIds());
            return new Sandbox(id, hypervisor, directory, agent, monitor, services.metrics());
        } catch (IOException | RuntimeException | InterruptedException e) {
            monitor.stopServing();
            hypervisor.stop(Duration.ofSeconds(2));
            monitor.removeCgroup();
            directory.delete();
            throw e;
        }
    }

    /** Creates the sandbox in the agent (CreateSandbox); on failure the caller destroys it. */
    public void create(String hostname) throws InterruptedException {
        long begin = System.nanoTime();
        agent.createSandbox(CreateSandboxRequest.newBuilder().setSandboxId(id).setHostname(hostname).build());
        metrics.recordStartPhase("sandbox_create", System.nanoTime() - begin);
    }

    /** Times a start phase of the sandbox's first container into the metrics. */
    public void recordStartPhase(String phase, long durationNanos) {
        metrics.recordStartPhase(phase, durationNanos);
    }

    public String id() {
        return id;
    }

    public AgentClient agent() {
        return agent;
    }

    public Hypervisor hypervisor() {
        return hypervisor;
    }

    public SandboxDirectory directory() {
        return directory;
    }

    /** The pid every task of this sandbox reports: the hypervisor's, as upstream. */
    public int pid() {
        return (int) hypervisor.pid();
    }

    /**
     * Destroys the sandbox in the agent, stops the hypervisor, removes the directory. Runs once;
     * a concurrent caller (Delete, Shutdown, the exit hook) waits until it is done.
     */
    public void destroy() {
        if (!destroying.compareAndSet(false, true)) {
            destroyed.join();
            return;
        }
        try {
            tearDown();
        } finally {
            destroyed.complete(null);
        }
    }

    private void tearDown() {
        monitor.stopServing();
        boolean agentCleanedUp = false;
        try {
            if (agent.isOpen()) {
                agent.destroySandbox(DestroySandboxRequest.getDefaultInstance());
                agentCleanedUp = true;
            }
        } catch (Exception e) {
            log.warn("sandbox {}: DestroySandbox failed: {}", id, e.getMessage());
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
        }
        agent.close();
        // once the agent has destroyed everything there is nothing left to stop gracefully
        hypervisor.stop(agentCleanedUp ? Duration.ZERO : Duration.ofSeconds(5));
        monitor.removeCgroup();
        try {
            directory.delete();
        } catch (IOException e) {
            log.warn("sandbox {}: cannot remove {}: {}", id, directory.path(), e.getMessage());
        }
    }
}
