package dev.katashim.shim.sandbox;

import dev.katashim.agent.client.AgentClient;
import dev.katashim.metrics.container.ContainerUsage;
import dev.katashim.protocols.kata.agent.BlkioStatsEntry;
import dev.katashim.protocols.kata.agent.CgroupStats;
import dev.katashim.protocols.kata.agent.MemoryStats;
import dev.katashim.protocols.kata.agent.NetworkStats;
import dev.katashim.protocols.kata.agent.StatsContainerRequest;
import dev.katashim.protocols.kata.agent.StatsContainerResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.function.ToLongFunction;

/**
 * Asks the agent for every running container's statistics (StatsContainer) and keeps the last
 * answers: the pod overhead and the {@code kata_container_*} families both read one sample, so
 * the agent is asked once per container and interval (each answer costs it a {@code runc events}).
 */
final class ContainerStatsSampler {
    private static final Logger log = LoggerFactory.getLogger(ContainerStatsSampler.class);

    private final AgentClient agent;
    private final Supplier<Collection<String>> running;
    private final ToLongFunction<String> oomKills;
    private volatile Map<String, StatsContainerResponse> last = Map.of();

    ContainerStatsSampler(AgentClient agent, Supplier<Collection<String>> running, ToLongFunction<String> oomKills) {
        this.agent = agent;
        this.running = running;
        this.oomKills = oomKills;
    }

    /**
     * A sample of every running container now. A container whose answer fails (it may have just
     * ended) is left out of the sample; the call then fails after keeping the rest, so that the pod
     * overhead skips a window it cannot trust.
     */
    Map<String, StatsContainerResponse> sample() throws Exception {
        Map<String, StatsContainerResponse> sample = new LinkedHashMap<>();
        Exception failed = null;
        for (String id : running.get()) {
            try {
                sample.put(id, agent.statsContainer(StatsContainerRequest.newBuilder().setContainerId(id).build()));
            } catch (InterruptedException e) {
                throw e;
            } catch (Exception e) {
                log.debug("no statistics for container {}: {}", id, e.toString());
                failed = e;
            }
        }
        last = Map.copyOf(sample);
        if (failed != null) {
            throw failed;
        }
        return sample;
    }

    /** The last sample's figures, container by container (empty before the first). */
    Map<String, ContainerUsage> latest() {
        Map<String, ContainerUsage> usage = new LinkedHashMap<>();
        last.forEach((id, stats) -> usage.put(id, usage(stats, oomKills.applyAsLong(id))));
        return usage;
    }

    /** runc's figures as the agent passes them on (cgroup v1 or v2 names in the memory map), as cAdvisor reads them. */
    static ContainerUsage usage(StatsContainerResponse response, long oomKills) {
        CgroupStats stats = response.getCgroupStats();
        MemoryStats memory = stats.getMemoryStats();
        Map<String, Long> raw = memory.getStatsMap();
        long usage = memory.getUsage().getUsage();
        long inactiveFile = first(raw, "total_inactive_file", "inactive_file");
        long cache = memory.getCache() > 0 ? memory.getCache() : first(raw, "total_cache", "cache", "file");
        long read = 0;
        long written = 0;
        for (BlkioStatsEntry e : stats.getBlkioStats().getIoServiceBytesRecursiveList()) {
            if (e.getOp().equalsIgnoreCase("read")) {
                read += e.getValue();
            } else if (e.getOp().equalsIgnoreCase("write")) {
                written += e.getValue();
            }
        }
        List<ContainerUsage.Interface> network = new ArrayList<>(response.getNetworkStatsCount());
        for (NetworkStats n : response.getNetworkStatsList()) {
            network.add(new ContainerUsage.Interface(n.getName(), n.getRxBytes(), n.getRxPackets(), n.getRxErrors(), n.getRxDropped(),
                    n.getTxBytes(), n.getTxPackets(), n.getTxErrors(), n.getTxDropped()));
        }
        return new ContainerUsage(stats.getCpuStats().getCpuUsage().getTotalUsage(),
                stats.getCpuStats().getCpuUsage().getUsageInUsermode(), stats.getCpuStats().getCpuUsage().getUsageInKernelmode(),
                usage, Math.max(0, usage - inactiveFile), first(raw, "total_rss", "rss", "anon"), cache,
                oomKills, stats.getPidsStats().getCurrent(), read, written, network);
    }

    private static long first(Map<String, Long> raw, String... keys) {
        for (String key : keys) {
            Long value = raw.get(key);
            if (value != null) {
                return value;
            }
        }
        return 0;
    }
}
