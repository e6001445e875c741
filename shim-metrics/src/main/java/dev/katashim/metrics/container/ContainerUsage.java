package dev.katashim.metrics.container;

import java.util.List;

/**
 * One container's figures as the agent reports them (StatsContainer: its cgroup inside the guest,
 * the network of its namespace), in nanoseconds and bytes, plus the OOM kills the shim was told of.
 * {@code memoryWorkingSet} is what cAdvisor calls the working set: usage less the inactive file cache.
 */
public record ContainerUsage(long cpuNanos, long cpuUserNanos, long cpuSystemNanos,
                             long memoryUsage, long memoryWorkingSet, long memoryRss, long memoryCache,
                             long oomEvents, long pids, long readBytes, long writtenBytes, List<Interface> network) {
    public ContainerUsage {
        network = List.copyOf(network);
    }

    /** One interface of the container's network namespace: counters since it came up. */
    public record Interface(String name, long rxBytes, long rxPackets, long rxErrors, long rxDropped,
                            long txBytes, long txPackets, long txErrors, long txDropped) {
    }
}
