package dev.katashim.metrics;

import dev.katashim.vmm.FatalSignals;
import dev.katashim.vmm.HypervisorMetrics;
import dev.katashim.vmm.VcpuCounter;
import dev.katashim.metrics.expo.MetricFamily;
import dev.katashim.metrics.expo.MetricType;
import dev.katashim.metrics.expo.Sample;
import dev.katashim.metrics.container.ContainerFamilies;
import dev.katashim.metrics.container.ContainerUsage;
import dev.katashim.metrics.refresh.Refreshed;
import dev.katashim.metrics.overhead.PodOverhead;
import dev.katashim.metrics.proc.ProcessFamilies;
import dev.katashim.sys.ProcessSnapshot;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * Everything one sandbox's {@code GET /metrics} serves, in upstream's order: the shim's and the
 * hypervisor's families sorted by name, then the agent's. A scrape reads only what is local and
 * quick (/proc/self, /proc/&lt;hypervisor pid&gt;, the histograms, the pod overhead's last window);
 * the parts behind a slow peer are fetched in the background ({@link Refreshed}) every refresh
 * period and served from their last result, so that a scrape never waits for the guest:
 * <ul>
 *   <li>the agent's GetMetrics text, parsed and checked by {@link AgentPart}; served with its age,
 *       {@code kata_shim_agent_metrics_age_seconds}, and left out while the agent fails or is late
 *       (counted in {@code kata_shim_agent_metrics_scrape_errors_total{reason}});</li>
 *   <li>the hypervisor's vCPU counters (a QMP round trip for QEMU).</li>
 * </ul>
 * The agent and the pod overhead can join after the server has started (a booting sandbox serves
 * the shim's part at once). No {@code sandbox_id} label: the node monitor adds it (upstream's
 * kata-monitor does the same; a label already there would be doubled).
 */
public final class SandboxMetrics implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SandboxMetrics.class);

    public static final String SCRAPE_COUNT = "kata_hypervisor_scrape_count";
    public static final String AGENT_ERRORS = "kata_shim_agent_metrics_scrape_errors_total";
    public static final String AGENT_DROPPED = "kata_shim_agent_metrics_dropped_families_total";
    public static final String AGENT_AGE = "kata_shim_agent_metrics_age_seconds";
    private static final String HYPERVISOR = "kata_hypervisor";
    private static final String HYPERVISOR_NETDEV = HYPERVISOR + "_netdev";
    /** Refreshing rests once nobody has scraped for this long (and resumes with the next scrape). */
    private static final Duration PAUSE_AFTER = Duration.ofMinutes(5);

    private final ShimMetrics shim;
    private final LongSupplier hypervisorPid;
    private final HypervisorMetrics hypervisor;
    private final Refreshed.Schedule schedule;
    private final Refreshed<List<VcpuCounter>> vcpu;
    private final AgentPart agentPart = new AgentPart();
    private final LongAdder scrapes = new LongAdder();

    private volatile Refreshed<List<MetricFamily>> agent;
    private volatile PodOverhead podOverhead;
    private volatile Supplier<Map<String, ContainerUsage>> containers;
    private volatile String networkOwner;
    private volatile boolean closed;
    private volatile long knownPid;
    private volatile long knownPidStart = -1;

    private SandboxMetrics(Builder b) {
        this.shim = b.shim;
        this.hypervisorPid = b.hypervisorPid;
        this.hypervisor = b.hypervisor;
        this.schedule = new Refreshed.Schedule(b.refreshPeriod, b.agentTimeout, PAUSE_AFTER);
        this.vcpu = b.hypervisor == HypervisorMetrics.NONE ? null : Refreshed.start("hypervisor-vcpu", b.hypervisor::vcpu, schedule);
        this.podOverhead = b.podOverhead;
        if (b.agent != null) {
            attachAgent(b.agent);
        }
    }

    public static Builder builder(ShimMetrics shim) {
        return new Builder(shim);
    }

    /** How often the agent's and the hypervisor's parts are fetched, and how long one call may take. */
    public Refreshed.Schedule refresh() {
        return schedule;
    }

    /** The agent answers: its metrics are fetched from now on, in the background. */
    public synchronized void attachAgent(AgentMetricsSource source) {
        if (agent != null || closed) {
            throw new IllegalStateException(closed ? "closed" : "an agent is attached already");
        }
        agent = Refreshed.start("agent-metrics", () -> agentPart.families(source.fetch()), schedule);
    }

    /**
     * Its containers' figures ({@code kata_container_*}): {@code latest} answers at once with the
     * last sample (taken in the background); {@code networkOwner} is the container whose network
     * namespace is the pod's (the sandbox's own container).
     */
    public void attachContainers(Supplier<Map<String, ContainerUsage>> latest, String networkOwner) {
        this.containers = latest;
        this.networkOwner = networkOwner;
    }

    /** The pod overhead sampler, once there is one. */
    public void attachPodOverhead(PodOverhead overhead) {
        this.podOverhead = overhead;
    }

    /** Every family of this sandbox now; never waits for the agent or the hypervisor, never throws for a failing source. */
    public List<MetricFamily> scrape() {
        scrapes.increment();
        List<MetricFamily> own = new ArrayList<>(40);
        own.addAll(shim.collect());
        own.addAll(hypervisorFamilies());
        PodOverhead overhead = podOverhead;
        if (overhead != null) {
            own.addAll(overhead.families());
        }
        Supplier<Map<String, ContainerUsage>> perContainer = containers;
        if (perContainer != null) {
            try {
                own.addAll(ContainerFamilies.of(perContainer.get(), networkOwner));
            } catch (RuntimeException e) {
                log.warn("the containers' figures are left out of this scrape: {}", e.toString());
            }
        }
        Refreshed<List<MetricFamily>> fromAgent = agent;
        Optional<Refreshed.Fetched<List<MetricFamily>>> agentPart = fromAgent == null ? Optional.empty() : fromAgent.latest();
        own.add(new MetricFamily(SCRAPE_COUNT, MetricType.COUNTER, "Metrics scrape count", List.of(Sample.of(SCRAPE_COUNT, scrapes.sum()))));
        own.add(new MetricFamily(AGENT_ERRORS, MetricType.COUNTER,
                "GetMetrics calls whose answer is not served, by reason: timeout (no answer within the agent timeout), failed.",
                List.of(Sample.of(AGENT_ERRORS, fromAgent == null ? 0 : fromAgent.timeouts(), "reason", "timeout"),
                        Sample.of(AGENT_ERRORS, fromAgent == null ? 0 : fromAgent.failures(), "reason", "failed"))));
        own.add(new MetricFamily(AGENT_DROPPED, MetricType.COUNTER,
                "Families of the agent's metrics left out: malformed, repeated, or named like one of the shim's.",
                List.of(Sample.of(AGENT_DROPPED, this.agentPart.dropped()))));
        agentPart.ifPresent(part -> own.add(new MetricFamily(AGENT_AGE, MetricType.GAUGE,
                "Seconds since the agent's part of this answer was fetched (in the background, every refresh period).", "seconds",
                List.of(Sample.of(AGENT_AGE, part.age().toNanos() / 1e9)))));
        own.sort(Comparator.comparing(MetricFamily::name));
        List<MetricFamily> fromAgentFamilies = agentPart.map(Refreshed.Fetched::value).orElse(List.of());
        List<MetricFamily> all = new ArrayList<>(own.size() + fromAgentFamilies.size());
        all.addAll(own);
        all.addAll(fromAgentFamilies);
        return all;
    }

    private List<MetricFamily> hypervisorFamilies() {
        List<MetricFamily> families = new ArrayList<>(9);
        long pid = hypervisorPid.getAsLong();
        ProcessSnapshot snapshot = pid > 0 && sameProcess(pid) ? shim.procFs().read(Long.toString(pid)) : null;
        if (snapshot != null) {
            boolean sharesShimsNetwork = sharesShimsNetwork(pid);
            for (MetricFamily f : ProcessFamilies.of(HYPERVISOR, ProcessFamilies.Help.HYPERVISOR, snapshot)) {
                if (!(sharesShimsNetwork && f.name().equals(HYPERVISOR_NETDEV))) {
                    families.add(f);
                }
            }
        }
        List<VcpuCounter> counters = vcpu == null ? List.of() : vcpu.latest().map(Refreshed.Fetched::value).orElse(List.of());
        List<Sample> vcpuSamples = new ArrayList<>(counters.size());
        for (VcpuCounter v : counters) {
            vcpuSamples.add(Sample.of(HYPERVISOR + "_vcpu", v.value(), "cpu_id", Integer.toString(v.cpuId()), "item", v.item().label()));
        }
        families.add(new MetricFamily(HYPERVISOR + "_vcpu", MetricType.GAUGE,
                "Hypervisor metrics specific to VCPUs' mode of functioning.", vcpuSamples));
        List<Sample> seccomp = new ArrayList<>(1);
        List<Sample> signals = new ArrayList<>(2);
        if (hypervisor.seesFatalSignals()) {
            FatalSignals fatal = hypervisor.fatalSignals();
            seccomp.add(Sample.of(HYPERVISOR + "_seccomp", fatal.seccompFaults(), "item", "num_faults"));
            signals.add(Sample.of(HYPERVISOR + "_signals", fatal.sigbus(), "item", "sigbus"));
            signals.add(Sample.of(HYPERVISOR + "_signals", fatal.sigsegv(), "item", "sigsegv"));
        }
        families.add(new MetricFamily(HYPERVISOR + "_seccomp", MetricType.GAUGE, "Hypervisor metrics for the seccomp filtering.", seccomp));
        families.add(new MetricFamily(HYPERVISOR + "_signals", MetricType.GAUGE, "Hypervisor metrics for the signals it handled.", signals));
        return families;
    }

    /**
     * Whether the hypervisor sees the shim's interfaces: then its netdev family would repeat
     * {@code kata_shim_netdev} series for series, and is left out.
     */
    private boolean sharesShimsNetwork(long pid) {
        Optional<String> own = shim.procFs().networkNamespace("self");
        return own.isPresent() && own.equals(shim.procFs().networkNamespace(Long.toString(pid)));
    }

    /** Whether {@code pid} is still the process first seen under it (a pid is reused once its process is gone). */
    private boolean sameProcess(long pid) {
        long start = shim.procFs().startTicks(Long.toString(pid));
        if (start < 0) {
            return false;
        }
        if (pid != knownPid) {
            knownPid = pid;
            knownPidStart = start;
            return true;
        }
        return start == knownPidStart;
    }

    /** Stops the background fetching (a call still running is interrupted). */
    @Override
    public synchronized void close() {
        closed = true;
        if (agent != null) {
            agent.close();
        }
        if (vcpu != null) {
            vcpu.close();
        }
    }

    public static final class Builder {
        private final ShimMetrics shim;
        private LongSupplier hypervisorPid = () -> 0;
        private HypervisorMetrics hypervisor = HypervisorMetrics.NONE;
        private AgentMetricsSource agent;
        private PodOverhead podOverhead;
        private Duration refreshPeriod = Duration.ofSeconds(5);
        private Duration agentTimeout = Duration.ofSeconds(10);

        private Builder(ShimMetrics shim) {
            this.shim = java.util.Objects.requireNonNull(shim, "shim");
        }

        /** The hypervisor process (QEMU; for the no-VM sandbox the host agent); 0 while there is none. */
        public Builder hypervisorPid(LongSupplier pid) {
            this.hypervisorPid = pid;
            return this;
        }

        public Builder hypervisorMetrics(HypervisorMetrics source) {
            this.hypervisor = source;
            return this;
        }

        /** The agent, known from the start (else {@link SandboxMetrics#attachAgent} once it answers). */
        public Builder agentMetrics(AgentMetricsSource source) {
            this.agent = source;
            return this;
        }

        public Builder podOverhead(PodOverhead overhead) {
            this.podOverhead = overhead;
            return this;
        }

        /** How often the agent's and the hypervisor's parts are fetched in the background (default 5 s). */
        public Builder refreshPeriod(Duration period) {
            this.refreshPeriod = positive(period, "refresh period");
            return this;
        }

        /** How long one background GetMetrics may take (default 10 s); later, the agent's part is left out until it answers. */
        public Builder agentTimeout(Duration timeout) {
            this.agentTimeout = positive(timeout, "agent timeout");
            return this;
        }

        private static Duration positive(Duration d, String what) {
            if (d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException(what + " must be positive: " + d);
            }
            return d;
        }

        public SandboxMetrics build() {
            return new SandboxMetrics(this);
        }
    }
}
