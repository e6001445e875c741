package dev.katashim.metrics.support;

import dev.katashim.agent.client.AgentClient;
import dev.katashim.agent.guest.AgentOptions;
import dev.katashim.agent.guest.GuestAgent;
import dev.katashim.metrics.AgentMetricsSource;
import dev.katashim.vmm.HypervisorMetrics;
import dev.katashim.metrics.SandboxMetrics;
import dev.katashim.metrics.ShimMetrics;
import dev.katashim.metrics.overhead.PodOverhead;
import dev.katashim.metrics.server.HttpClient;
import dev.katashim.metrics.server.ManagementServer;
import dev.katashim.protocols.kata.agent.GetMetricsRequest;
import dev.katashim.ttrpc.transport.Endpoint;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import java.util.function.LongSupplier;
import java.util.stream.Stream;

/**
 * One sandbox for a test: its directory under a sandbox root, the shim's metrics, optionally a
 * real guest agent (host mode, in this JVM) and the management server on
 * {@code <dir>/shim-monitor.sock}. {@link #close()} stops all of it.
 */
public final class TestSandbox implements AutoCloseable {
    public final String id;
    public final Path dir;
    public final ShimMetrics shim;
    public final SandboxMetrics metrics;
    public final ManagementServer server;
    public final GuestAgent agent;
    public final AgentClient client;

    private TestSandbox(String id, Path dir, ShimMetrics shim, SandboxMetrics metrics, ManagementServer server,
                        GuestAgent agent, AgentClient client) {
        this.id = id;
        this.dir = dir;
        this.shim = shim;
        this.metrics = metrics;
        this.server = server;
        this.agent = agent;
        this.client = client;
    }

    /** How to assemble one. */
    public static final class Builder {
        private final Path root;
        private final String id;
        private boolean realAgent;
        private AgentMetricsSource agentSource;
        private LongSupplier hypervisorPid = () -> 0;
        private HypervisorMetrics hypervisor = HypervisorMetrics.NONE;
        private PodOverhead podOverhead;
        private Duration agentTimeout = Duration.ofSeconds(10);
        private Duration refreshPeriod = Duration.ofSeconds(5);
        private ManagementServer.Options options = ManagementServer.Options.DEFAULTS;

        private Builder(Path root, String id) {
            this.root = root;
            this.id = id;
        }

        public Builder realAgent() {
            this.realAgent = true;
            return this;
        }

        public Builder agent(AgentMetricsSource source) {
            this.agentSource = source;
            return this;
        }

        public Builder hypervisorPid(LongSupplier pid) {
            this.hypervisorPid = pid;
            return this;
        }

        public Builder hypervisor(HypervisorMetrics source) {
            this.hypervisor = source;
            return this;
        }

        public Builder podOverhead(PodOverhead overhead) {
            this.podOverhead = overhead;
            return this;
        }

        public Builder agentTimeout(Duration timeout) {
            this.agentTimeout = timeout;
            return this;
        }

        public Builder refreshPeriod(Duration period) {
            this.refreshPeriod = period;
            return this;
        }

        public Builder options(ManagementServer.Options options) {
            this.options = options;
            return this;
        }

        public TestSandbox start() throws Exception {
            Path dir = root.resolve(id);
            Files.createDirectories(dir);
            GuestAgent agent = null;
            AgentClient client = null;
            AgentMetricsSource source = agentSource;
            ShimMetrics shim = new ShimMetrics();
            if (realAgent) {
                Endpoint endpoint = new Endpoint.UnixPath(dir.resolve("agent.sock"));
                agent = GuestAgent.start(new AgentOptions(List.of(endpoint), dir.resolve("agent-state"), true, AgentOptions.findRunc(),
                        "/kata-metrics-test-" + UUID.randomUUID().toString().substring(0, 8), dir.resolve("shared")));
                // wired as the shim wires it: every agent call lands in the agent RPC histogram
                client = AgentClient.builder(endpoint).dialTimeout(Duration.ofSeconds(10))
                        .observer((action, nanos, outcome) -> shim.observeAgentRpc(action, nanos)).connect();
                AgentClient c = client;
                source = () -> c.getMetrics(GetMetricsRequest.getDefaultInstance()).getMetrics();
            }
            SandboxMetrics.Builder b = SandboxMetrics.builder(shim).hypervisorPid(hypervisorPid).hypervisorMetrics(hypervisor)
                    .agentTimeout(agentTimeout).refreshPeriod(refreshPeriod).podOverhead(podOverhead);
            if (source != null) {
                b.agentMetrics(source);
            }
            SandboxMetrics metrics = b.build();
            Endpoint agentUrl = agent == null ? null : agent.options().listen().getFirst();
            ManagementServer server = ManagementServer.start(dir, metrics,
                    () -> agentUrl == null ? null : agentUrl.toString(), options);
            return new TestSandbox(id, dir, shim, metrics, server, agent, client);
        }
    }

    public static Builder in(Path root, String id) {
        return new Builder(root, id);
    }

    public Path socket() {
        return server.socket();
    }

    /** GET {@code path} on this sandbox's socket. */
    public HttpClient.Response get(String path, String accept) throws IOException, InterruptedException {
        return HttpClient.getBlocking(socket(), path, accept, Duration.ofSeconds(10));
    }

    /** Scrapes /metrics (text format 0.0.4) and parses it strictly. */
    public java.util.Map<String, StrictPrometheusText.Family> scrape() throws IOException, InterruptedException {
        HttpClient.Response r = get("/metrics", null);
        if (r.status() != 200) {
            throw new AssertionError("/metrics answered " + r.status() + ": " + r.body());
        }
        return StrictPrometheusText.parse(r.body());
    }

    /** Scrapes until {@code ready} holds of the families (the background parts have arrived), within {@code deadline}. */
    public java.util.Map<String, StrictPrometheusText.Family> scrapeWhen(java.util.function.Predicate<java.util.Map<String, StrictPrometheusText.Family>> ready,
                                                                        Duration deadline) throws IOException, InterruptedException {
        long end = System.nanoTime() + deadline.toNanos();
        while (true) {
            java.util.Map<String, StrictPrometheusText.Family> families = scrape();
            if (ready.test(families)) {
                return families;
            }
            if (System.nanoTime() > end) {
                throw new AssertionError("not ready within " + deadline + ": " + families.keySet());
            }
            Thread.sleep(20);
        }
    }

    /** Scrapes once the agent's part has arrived (within {@link #AGENT_DEADLINE}). */
    public java.util.Map<String, StrictPrometheusText.Family> scrapeWithAgent() throws IOException, InterruptedException {
        return scrapeWhen(f -> f.containsKey("kata_agent_threads"), AGENT_DEADLINE);
    }

    /** How long the first background GetMetrics of a real agent may take here, both cores busy. */
    public static final Duration AGENT_DEADLINE = Duration.ofSeconds(20);

    @Override
    public void close() throws Exception {
        server.close();
        metrics.close();
        if (client != null) {
            client.close();
        }
        if (agent != null) {
            agent.close();
        }
    }

    /** Deletes a directory tree (test temp dirs). */
    public static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
