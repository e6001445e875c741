package dev.katashim.shim.sandbox;

import dev.katashim.agent.client.AgentClient;
import dev.katashim.metrics.SandboxMetrics;
import dev.katashim.metrics.ShimMetrics;
import dev.katashim.metrics.overhead.HostCgroup;
import dev.katashim.metrics.overhead.PodOverhead;
import dev.katashim.metrics.overhead.Usage;
import dev.katashim.metrics.server.ManagementServer;
import dev.katashim.protocols.kata.agent.GetMetricsRequest;
import dev.katashim.protocols.kata.agent.StatsContainerRequest;
import dev.katashim.protocols.kata.agent.StatsContainerResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Duration;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * What watches one sandbox from the host: its cgroup ({@code /kata_overhead/<id>}, as upstream,
 * holding the VMM or host agent — and, for the no-VM sandbox, its containers), the pod-overhead
 * sampler, and the management socket serving {@code /metrics}. A part that cannot be set up (no
 * cgroup filesystem, say) is logged and left out; the sandbox still runs.
 */
public final class SandboxMonitor {
    private static final Logger log = LoggerFactory.getLogger(SandboxMonitor.class);
    static final String CGROUP_ROOT = "/kata_overhead/";
    private static final Duration OVERHEAD_INTERVAL = Duration.ofSeconds(10);

    private final String sandboxId;
    private final HostCgroup cgroup;
    private PodOverhead overhead;
    private ManagementServer server;

    private SandboxMonitor(String sandboxId, HostCgroup cgroup) {
        this.sandboxId = sandboxId;
        this.cgroup = cgroup;
    }

    /** Before the hypervisor starts: its cgroup, so that it is charged from its first page. */
    static SandboxMonitor prepare(String sandboxId) {
        HostCgroup cgroup = null;
        try {
            cgroup = HostCgroup.create(cgroupPath(sandboxId));
        } catch (IOException | RuntimeException e) {
            log.warn("sandbox {}: no host cgroup ({}); pod overhead will not be measured", sandboxId, e.getMessage());
        }
        return new SandboxMonitor(sandboxId, cgroup);
    }

    public static String cgroupPath(String sandboxId) {
        return CGROUP_ROOT + sandboxId;
    }

    /** After a dead shim: the sandbox's cgroup, once what was in it has been killed. */
    public static void removeLeftoverCgroup(String sandboxId) throws IOException {
        HostCgroup.create(cgroupPath(sandboxId)).remove();
    }

    /** The prefix that starts a command inside the sandbox's cgroup (empty without one). */
    List<String> launchPrefix() {
        return cgroup == null ? List.of() : cgroup.launchPrefix();
    }

    /** Moves an already started process (QEMU) into the sandbox's cgroup. */
    void adopt(long pid) {
        if (cgroup == null) {
            return;
        }
        try {
            cgroup.addProcess(pid);
        } catch (IOException e) {
            log.warn("sandbox {}: cannot move pid {} into {}: {}", sandboxId, pid, cgroup.path(), e.getMessage());
        }
    }

    /** Where container cgroups of a host agent go: inside the sandbox's, so its usage includes them. */
    String cgroupParent(String fallback) {
        return cgroup == null ? fallback : cgroup.path();
    }

    /** Once the agent answers: the overhead sampler and the management socket. */
    void start(ShimMetrics metrics, SandboxDirectory directory, Hypervisor hypervisor, AgentClient agent,
               Supplier<Collection<String>> containerIds) {
        if (cgroup != null) {
            overhead = PodOverhead.start(new PodOverhead.Inputs() {
                @Override
                public Usage host() throws Exception {
                    return cgroup.usage();
                }

                @Override
                public Map<String, Usage> containers() throws Exception {
                    Map<String, Usage> usage = new LinkedHashMap<>();
                    for (String id : containerIds.get()) {
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
                .hypervisorMetrics(hypervisor.metricsSource())
                .agentMetrics(() -> agent.getMetrics(GetMetricsRequest.getDefaultInstance()).getMetrics())
                .agentTimeout(Duration.ofSeconds(2));
        if (overhead != null) {
            sandboxMetrics.podOverhead(overhead);
        }
        try {
            server = ManagementServer.start(directory.path(), sandboxMetrics.build(), () -> hypervisor.agentEndpoint().toString());
        } catch (IOException | RuntimeException e) {
            log.warn("sandbox {}: no management socket: {}", sandboxId, e.getMessage());
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

    /** Last of the teardown, once the hypervisor is gone. */
    void removeCgroup() {
        if (cgroup == null) {
            return;
        }
        try {
            cgroup.remove();
        } catch (IOException e) {
            log.warn("sandbox {}: cannot remove cgroup {}: {}", sandboxId, cgroup.path(), e.getMessage());
        }
    }
}
