package dev.katashim.metrics;

import dev.katashim.metrics.expo.MetricFamily;
import dev.katashim.metrics.proc.ProcessFamilies;
import dev.katashim.sys.ProcFs;
import dev.katashim.sys.ProcessSnapshot;

import java.util.ArrayList;
import java.util.List;

/**
 * The shim's own metrics, one instance per shim process, created before the first Task call:
 * <ul>
 *   <li>{@code kata_shim_rpc_durations_histogram_milliseconds{action}}: fed by {@link #observeShimRpc}
 *       from the Task server's interceptor (an action's series appears on its first call, as upstream's);</li>
 *   <li>{@code kata_shim_agent_rpc_durations_histogram_milliseconds{action}}: fed by
 *       {@link #observeAgentRpc} from the agent client's observer;</li>
 *   <li>{@code kata_shim_threads}, {@code _fds}, {@code _proc_status}, {@code _proc_stat},
 *       {@code _io_stat}, {@code _netdev} and the process collector's {@code kata_shim_process_*},
 *       read from /proc/self on every {@link #collect()}.</li>
 * </ul>
 * A sandbox's metrics (hypervisor, pod overhead, agent) are added by {@link SandboxMetrics}.
 */
public final class ShimMetrics {
    public static final String SHIM_RPC = "kata_shim_rpc_durations_histogram_milliseconds";
    public static final String AGENT_RPC = "kata_shim_agent_rpc_durations_histogram_milliseconds";
    /** Ours (no upstream shim says where pod start time goes): seconds spent in each start phase. */
    public static final String START_PHASES = "kata_shim_sandbox_start_phase_seconds";
    private static final String PREFIX = "kata_shim";
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(ShimMetrics.class);

    private final LatencyHistogram shimRpc = new LatencyHistogram(SHIM_RPC, "RPC latency distributions.", "action");
    private final LatencyHistogram agentRpc = new LatencyHistogram(AGENT_RPC, "RPC latency distributions.", "action");
    private final ProcFs proc;
    private final java.util.Map<String, Double> startPhases = new java.util.concurrent.ConcurrentSkipListMap<>();

    public ShimMetrics() {
        this(ProcFs.HOST);
    }

    ShimMetrics(ProcFs proc) {
        this.proc = proc;
    }

    /**
     * One Task RPC ended after {@code durationNanos}; {@code action} is the metrics reference's name
     * ({@code create}, {@code resize_pty}, ...). Thread-safe, allocation-free, tens of nanoseconds.
     */
    public void observeShimRpc(String action, long durationNanos) {
        shimRpc.observe(action, durationNanos);
    }

    /** One agent RPC ended; {@code action} is {@code grpc.<Request>} ({@code grpc.CreateContainerRequest}). */
    public void observeAgentRpc(String action, long durationNanos) {
        agentRpc.observe(action, durationNanos);
    }

    /**
     * How long one phase of the sandbox's start took ({@code vm_boot}: the hypervisor process up;
     * {@code agent_ready}: from there to the agent answering; {@code sandbox_create},
     * {@code container_create}, {@code container_start}: the agent calls of the first container).
     */
    public void recordStartPhase(String phase, long durationNanos) {
        startPhases.put(phase, durationNanos / 1e9);
    }

    ProcFs procFs() {
        return proc;
    }

    /** The shim's families now: the two histograms and everything /proc/self says. */
    public List<MetricFamily> collect() {
        List<MetricFamily> families = new ArrayList<>(16);
        families.add(shimRpc.family());
        families.add(agentRpc.family());
        if (!startPhases.isEmpty()) {
            List<dev.katashim.metrics.expo.Sample> samples = new ArrayList<>();
            startPhases.forEach((phase, seconds) -> samples.add(dev.katashim.metrics.expo.Sample.of(START_PHASES, seconds, "phase", phase)));
            families.add(new MetricFamily(START_PHASES, dev.katashim.metrics.expo.MetricType.GAUGE,
                    "Time spent in each phase of starting the sandbox and its first container, in seconds.", samples));
        }
        try {
            ProcessSnapshot self = proc.read("self");
            if (self != null) {
                families.addAll(ProcessFamilies.of(PREFIX, ProcessFamilies.Help.SHIM, self));
                families.addAll(ProcessFamilies.processCollector(PREFIX, self, proc.bootTime()));
            }
        } catch (RuntimeException e) {
            log.warn("/proc/self unreadable, the shim's process metrics are left out: {}", e.toString());
        }
        return families;
    }
}
