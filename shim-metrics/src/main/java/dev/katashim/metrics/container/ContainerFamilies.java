package dev.katashim.metrics.container;

import dev.katashim.metrics.expo.MetricFamily;
import dev.katashim.metrics.expo.MetricType;
import dev.katashim.metrics.expo.Sample;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.ToDoubleFunction;

/**
 * The {@code kata_container_*} families: one series per running container and figure, labelled
 * {@code container_id}, named as cAdvisor names its {@code container_*} figures so that a recording
 * rule maps them onto existing dashboards. The pod's network is served once, for the container
 * whose namespace holds it (the sandbox's own container, or the first one where there is none):
 * every container of a pod shares it.
 */
public final class ContainerFamilies {
    public static final String PREFIX = "kata_container_";
    private static final String ID = "container_id";

    private ContainerFamilies() {
    }

    /** The families for {@code usage} (container id → figures); {@code networkOwner}: whose network to serve. */
    public static List<MetricFamily> of(Map<String, ContainerUsage> usage, String networkOwner) {
        if (usage.isEmpty()) {
            return List.of();
        }
        Map<String, ContainerUsage> sorted = new TreeMap<>(usage);
        List<MetricFamily> families = new ArrayList<>(18);
        families.add(each(sorted, "cpu_usage_seconds_total", MetricType.COUNTER, "seconds",
                "CPU time used by the container's processes, in seconds.", u -> u.cpuNanos() / 1e9));
        families.add(each(sorted, "cpu_user_seconds_total", MetricType.COUNTER, "seconds",
                "CPU time used in user mode, in seconds.", u -> u.cpuUserNanos() / 1e9));
        families.add(each(sorted, "cpu_system_seconds_total", MetricType.COUNTER, "seconds",
                "CPU time used in kernel mode, in seconds.", u -> u.cpuSystemNanos() / 1e9));
        families.add(each(sorted, "memory_usage_bytes", MetricType.GAUGE, "bytes",
                "Memory the container's cgroup uses, page cache included, in bytes.", ContainerUsage::memoryUsage));
        families.add(each(sorted, "memory_working_set_bytes", MetricType.GAUGE, "bytes",
                "Memory usage less the inactive file cache (what the OOM killer weighs), in bytes.", ContainerUsage::memoryWorkingSet));
        families.add(each(sorted, "memory_rss_bytes", MetricType.GAUGE, "bytes",
                "Anonymous memory (RSS) of the container, in bytes.", ContainerUsage::memoryRss));
        families.add(each(sorted, "memory_cache_bytes", MetricType.GAUGE, "bytes",
                "Page cache charged to the container, in bytes.", ContainerUsage::memoryCache));
        families.add(each(sorted, "oom_events_total", MetricType.COUNTER, "",
                "Processes of the container killed for lack of memory (OOM kills the agent reported).", ContainerUsage::oomEvents));
        families.add(each(sorted, "pids", MetricType.GAUGE, "",
                "Processes and threads in the container.", ContainerUsage::pids));
        families.add(each(sorted, "fs_reads_bytes_total", MetricType.COUNTER, "bytes",
                "Bytes the container read from block devices.", ContainerUsage::readBytes));
        families.add(each(sorted, "fs_writes_bytes_total", MetricType.COUNTER, "bytes",
                "Bytes the container wrote to block devices.", ContainerUsage::writtenBytes));
        String owner = sorted.containsKey(networkOwner) ? networkOwner : sorted.keySet().iterator().next();
        families.addAll(network(owner, sorted.get(owner).network()));
        return families;
    }

    private static MetricFamily each(Map<String, ContainerUsage> usage, String suffix, MetricType type, String unit, String help,
                                     ToDoubleFunction<ContainerUsage> value) {
        String name = PREFIX + suffix;
        List<Sample> samples = new ArrayList<>(usage.size());
        usage.forEach((id, u) -> samples.add(Sample.of(name, value.applyAsDouble(u), ID, id)));
        return new MetricFamily(name, type, help, unit, samples);
    }

    private record Counter(String suffix, String help, ToDoubleFunction<ContainerUsage.Interface> value) {
    }

    private static final List<Counter> NETWORK = List.of(
            new Counter("network_receive_bytes_total", "Bytes received by the pod's interface.", ContainerUsage.Interface::rxBytes),
            new Counter("network_receive_packets_total", "Packets received by the pod's interface.", ContainerUsage.Interface::rxPackets),
            new Counter("network_receive_errors_total", "Receive errors of the pod's interface.", ContainerUsage.Interface::rxErrors),
            new Counter("network_receive_packets_dropped_total", "Received packets the pod's interface dropped.", ContainerUsage.Interface::rxDropped),
            new Counter("network_transmit_bytes_total", "Bytes sent by the pod's interface.", ContainerUsage.Interface::txBytes),
            new Counter("network_transmit_packets_total", "Packets sent by the pod's interface.", ContainerUsage.Interface::txPackets),
            new Counter("network_transmit_errors_total", "Send errors of the pod's interface.", ContainerUsage.Interface::txErrors),
            new Counter("network_transmit_packets_dropped_total", "Packets to send the pod's interface dropped.", ContainerUsage.Interface::txDropped));

    private static List<MetricFamily> network(String owner, List<ContainerUsage.Interface> interfaces) {
        List<MetricFamily> families = new ArrayList<>(NETWORK.size());
        for (Counter c : NETWORK) {
            String name = PREFIX + c.suffix();
            List<Sample> samples = new ArrayList<>(interfaces.size());
            for (ContainerUsage.Interface i : interfaces) {
                samples.add(Sample.of(name, c.value().applyAsDouble(i), ID, owner, "interface", i.name()));
            }
            families.add(new MetricFamily(name, MetricType.COUNTER, c.help(), c.suffix().endsWith("bytes_total") ? "bytes" : "", samples));
        }
        return families;
    }
}
