package dev.katashim.shim.sandbox;

import dev.katashim.agent.client.AgentClient;
import dev.katashim.metrics.SandboxMetrics;
import dev.katashim.metrics.ShimMetrics;
import dev.katashim.metrics.overhead.PodOverhead;
import dev.katashim.metrics.overhead.Usage;
import dev.katashim.metrics.server.ManagementServer;
import dev.katashim.protocols.kata.agent.GetMetricsRequest;
import dev.katashim.protocols.kata.agent.StatsContainerRequest;
import dev.katashim.protocols.kata.agent.StatsContainerResponse;
import dev.katashim.shim.resource.cgroup.SandboxCgroup;
import dev.katashim.vmm.Hypervisor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Duration;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * What watches one sandbox from the host: the pod-overhead sampler (the sandbox's host cgroup
 * against its containers' usage as the agent reports it) and the management socket serving
 * {@code /metrics}. A part that cannot be set up is logged and left out; the sandbox still runs.
 */
final class SandboxMonitor {
    private static final Logger log = LoggerFactory.getLogger(SandboxMonitor.class);
    private static final Duration OVERHEAD_INTERVAL = Duration.ofSeconds(10);

    private final String sandboxId;
    private PodOverhead overhead;
    private ManagementServer server;

    private SandboxMonitor(String sandboxId) {
        this.sandboxId = sandboxId;
    }

    /** Once the agent answers: the overhead sampler and the management socket. */
    static SandboxMonitor start(String sandboxId, ShimMetrics metrics, SandboxDirectory directory, Hypervisor hypervisor,
                                AgentClient agent, SandboxCgroup cgroup, Supplier<Collection<String>> runningContainers) {
        SandboxMonitor monitor = new SandboxMonitor(sandboxId);
        if (cgroup.exists()) {
            monitor.overhead = PodOverhead.start(new PodOverhead.Inputs() {
                @Override
                public Usage host() throws Exception {
                    return cgroup.usage();
                }

                @Override
                public Map<String, Usage> containers() throws Exception {
                    Map<String, Usage> usage = new LinkedHashMap<>();
                    for (String id : runningContainers.get()) {
                        StatsContainerResponse stats = agent.statsContainer(StatsContainerRequest.newBuilder().setContainerId(id).build());
                        usage.put(id, new Usage(stats.getCgroupStats().getCpuStats().getCpuUsage().getTotalUsage(),
                                stats.getCgroupStats().getMemoryStats().getUsage().getUsage()));
                    }
                    return usage;
                }
            }, OVERHEAD_INTERVAL);
        }
        SandboxMetrics.Builder sandboxMetrics = SandboxMetrics.builder(metrics)
                .hypervisorPid(hypervisor::pid)
                .hypervisorMetrics(hypervisor.metrics())
                .agentMetrics(() -> agent.getMetrics(GetMetricsRequest.getDefaultInstance()).getMetrics())
                .agentTimeout(Duration.ofSeconds(2));
        if (monitor.overhead != null) {
            sandboxMetrics.podOverhead(monitor.overhead);
        }
        try {
            monitor.server = ManagementServer.start(directory.path(), sandboxMetrics.build(), () -> hypervisor.agentEndpoint().toString());
        } catch (IOException | RuntimeException e) {
            log.warn("sandbox {}: no management socket: {}", sandboxId, e.getMessage());
        }
        return monitor;
    }

    /** A container started or ended: the pod-overhead window starts again from now. */
    void containersChanged() {
        if (overhead != null) {
            overhead.containersChanged();
        }
    }

    /** First of the teardown: no new scrapes (503), no more sampling. */
    void stopServing() {
        if (server != null) {
            server.close();
        }
        if (overhead != null) {
            overhead.close();
        }
    }
}
