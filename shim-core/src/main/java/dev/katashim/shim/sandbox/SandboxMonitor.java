package dev.katashim.shim.sandbox;

import dev.katashim.agent.client.AgentClient;
import dev.katashim.metrics.SandboxMetrics;
import dev.katashim.metrics.ShimMetrics;
import dev.katashim.metrics.overhead.PodOverhead;
import dev.katashim.metrics.overhead.Usage;
import dev.katashim.metrics.refresh.Refreshed;
import dev.katashim.metrics.server.ManagementServer;
import dev.katashim.protocols.kata.agent.GetMetricsRequest;
import dev.katashim.protocols.kata.agent.StatsContainerResponse;
import dev.katashim.shim.resource.cgroup.SandboxCgroup;
import dev.katashim.sys.ThreadSchedStat;
import dev.katashim.vmm.Hypervisor;
import dev.katashim.vmm.HypervisorMetrics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Duration;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.function.ToLongFunction;

/**
 * What watches one sandbox from the host: the management socket serving {@code /metrics} from the
 * start of the boot (the shim's part and the start phases at once; the agent's once it answers),
 * and the pod-overhead sampler (the sandbox's host cgroup against its containers' usage as the
 * agent reports it). A part that cannot be set up is logged and left out; the sandbox still runs.
 */
final class SandboxMonitor {
    private static final Logger log = LoggerFactory.getLogger(SandboxMonitor.class);
    private static final Duration OVERHEAD_INTERVAL = Duration.ofSeconds(10);

    private final String sandboxId;
    private final SandboxMetrics metrics;
    private final ManagementServer server;
    private volatile PodOverhead overhead;
    private volatile Refreshed<?> containerSampling;

    private SandboxMonitor(String sandboxId, SandboxMetrics metrics, ManagementServer server) {
        this.sandboxId = sandboxId;
        this.metrics = metrics;
        this.server = server;
    }

    /** As soon as the sandbox's directory exists: the management socket, agent and overhead to come. */
    static SandboxMonitor serve(String sandboxId, ShimMetrics shim, SandboxDirectory directory, Hypervisor hypervisor,
                                Duration refreshPeriod) {
        SandboxMetrics metrics = SandboxMetrics.builder(shim)
                .hypervisorPid(hypervisor::pid)
                .hypervisorMetrics(hypervisor.metrics())
                .refreshPeriod(refreshPeriod)
                .build();
        ManagementServer server = null;
        try {
            server = ManagementServer.start(directory.path(), metrics, () -> hypervisor.agentEndpoint().toString());
        } catch (IOException | RuntimeException e) {
            log.warn("sandbox {}: no management socket: {}", sandboxId, e.getMessage());
        }
        return new SandboxMonitor(sandboxId, metrics, server);
    }

    /**
     * The agent answers: its metrics (fetched in the background from now on), its containers'
     * statistics every {@link #OVERHEAD_INTERVAL} for {@code kata_container_*} and, where the sandbox
     * has a host cgroup, the pod overhead from the same samples.
     */
    void agentReady(AgentClient agent, SandboxCgroup cgroup, HypervisorMetrics vmm, Supplier<Collection<String>> runningContainers,
                    ToLongFunction<String> oomKills) {
        metrics.attachAgent(() -> agent.getMetrics(GetMetricsRequest.getDefaultInstance()).getMetrics());
        ContainerStatsSampler containers = new ContainerStatsSampler(agent, runningContainers, oomKills);
        if (!cgroup.exists()) {
            Refreshed<Map<String, StatsContainerResponse>> sampling = Refreshed.start("container-stats", containers::sample,
                    new Refreshed.Schedule(OVERHEAD_INTERVAL, OVERHEAD_INTERVAL.multipliedBy(3), Duration.ofMinutes(5)));
            containerSampling = sampling;
            metrics.attachContainers(() -> {
                sampling.latest(); // a read: keeps the sampling awake
                return containers.latest();
            }, sandboxId);
            return;
        }
        metrics.attachContainers(containers::latest, sandboxId);
        PodOverhead sampler = PodOverhead.start(new PodOverhead.Inputs() {
            @Override
            public Usage host() throws Exception {
                return cgroup.usage();
            }

            @Override
            public Map<String, Usage> containers() throws Exception {
                Map<String, Usage> usage = new LinkedHashMap<>();
                containers.sample().forEach((id, stats) -> usage.put(id, new Usage(
                        stats.getCgroupStats().getCpuStats().getCpuUsage().getTotalUsage(),
                        stats.getCgroupStats().getMemoryStats().getUsage().getUsage())));
                return usage;
            }

            @Override
            public Optional<ThreadSchedStat> vcpuThreads() throws IOException {
                return vmm.vcpuThreads();
            }
        }, OVERHEAD_INTERVAL);
        overhead = sampler;
        metrics.attachPodOverhead(sampler);
        log.debug("sandbox {}: pod overhead sampled every {}", sandboxId, OVERHEAD_INTERVAL);
    }

    /** A container started or ended: the pod-overhead window starts again from now. */
    void containersChanged() {
        PodOverhead sampling = overhead;
        if (sampling != null) {
            sampling.containersChanged();
        }
    }

    /** First of the teardown (or of a failed boot's cleanup): no new scrapes (503), no more fetching or sampling. */
    void stopServing() {
        if (server != null) {
            server.close();
        }
        metrics.close();
        Refreshed<?> containers = containerSampling;
        if (containers != null) {
            containers.close();
        }
        PodOverhead sampling = overhead;
        if (sampling != null) {
            sampling.close();
        }
    }
}
