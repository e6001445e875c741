package dev.katashim.metrics;

import dev.katashim.vmm.FatalSignals;
import dev.katashim.vmm.HypervisorMetrics;
import dev.katashim.vmm.VcpuCounter;
import dev.katashim.metrics.expo.MetricFamily;
import dev.katashim.metrics.expo.MetricType;
import dev.katashim.metrics.expo.Sample;
import dev.katashim.metrics.expo.TextFormatParser;
import dev.katashim.metrics.overhead.PodOverhead;
import dev.katashim.metrics.proc.ProcessFamilies;
import dev.katashim.sys.ProcessSnapshot;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

/**
 * Everything one sandbox's {@code GET /metrics} serves, in upstream's order: the shim's and the
 * hypervisor's families sorted by name, then the agent's. Per scrape:
 * <ol>
 *   <li>{@code kata_hypervisor_scrape_count} grows by one;</li>
 *   <li>the agent's GetMetrics starts (one call in flight at a time, shared by concurrent scrapes);</li>
 *   <li>meanwhile /proc/self and /proc/&lt;hypervisor pid&gt; are read, the hypervisor's counters asked for;</li>
 *   <li>the agent's text is awaited up to {@code agentTimeout}, parsed strictly, its malformed families
 *       dropped (logged, counted), {@code go_*}/{@code process_*} renamed {@code kata_agent_*} as upstream does,
 *       and any family whose name the shim already serves dropped, so that each family is served once.</li>
 * </ol>
 * An agent that fails or is late leaves only its part out and counts in
 * {@code kata_shim_agent_metrics_scrape_errors_total{reason}}. No {@code sandbox_id} label: the node
 * monitor adds it (upstream's kata-monitor does the same; a label already there would be doubled).
 */
public final class SandboxMetrics {
    private static final Logger log = LoggerFactory.getLogger(SandboxMetrics.class);

    public static final String SCRAPE_COUNT = "kata_hypervisor_scrape_count";
    public static final String AGENT_ERRORS = "kata_shim_agent_metrics_scrape_errors_total";
    public static final String AGENT_DROPPED = "kata_shim_agent_metrics_dropped_families_total";
    private static final String HYPERVISOR = "kata_hypervisor";
    private static final String HYPERVISOR_NETDEV = HYPERVISOR + "_netdev";
    private static final int MAX_LOGGED_REJECTIONS = 64;

    private final ShimMetrics shim;
    private final LongSupplier hypervisorPid;
    private final HypervisorMetrics hypervisor;
    private final AgentMetricsSource agent;
    private final PodOverhead podOverhead;
    private final Duration agentTimeout;

    private final LongAdder scrapes = new LongAdder();
    private final LongAdder agentTimeouts = new LongAdder();
    private final LongAdder agentFailures = new LongAdder();
    private final LongAdder droppedFamilies = new LongAdder();
    private final AtomicReference<CompletableFuture<String>> agentInFlight = new AtomicReference<>();
    private final Set<String> loggedRejections = ConcurrentHashMap.newKeySet();
    private volatile String lastAgentProblem;

    private volatile long knownPid;
    private volatile long knownPidStart = -1;

    private SandboxMetrics(Builder b) {
        this.shim = b.shim;
        this.hypervisorPid = b.hypervisorPid;
        this.hypervisor = b.hypervisor;
        this.agent = b.agent;
        this.podOverhead = b.podOverhead;
        this.agentTimeout = b.agentTimeout;
    }

    public static Builder builder(ShimMetrics shim) {
        return new Builder(shim);
    }

    public Duration agentTimeout() {
        return agentTimeout;
    }

    /** Every family of this sandbox now. Never throws for a failing source: its part is left out. */
    public List<MetricFamily> scrape() {
        scrapes.increment();
        CompletableFuture<String> agentText = agent == null ? null : agentFetch();
        long deadline = System.nanoTime() + agentTimeout.toNanos();

        List<MetricFamily> own = new ArrayList<>(40);
        own.addAll(shim.collect());
        own.addAll(hypervisorFamilies());
        if (podOverhead != null) {
            own.addAll(podOverhead.families());
        }
        List<MetricFamily> agentFamilies = agentText == null ? List.of() : agentFamilies(agentText, deadline, own);
        own.add(new MetricFamily(SCRAPE_COUNT, MetricType.COUNTER, "Metrics scrape count", List.of(Sample.of(SCRAPE_COUNT, scrapes.sum()))));
        own.add(new MetricFamily(AGENT_ERRORS, MetricType.COUNTER,
                "Scrapes whose agent part (GetMetrics) was left out, by reason: timeout, failed.",
                List.of(Sample.of(AGENT_ERRORS, agentTimeouts.sum(), "reason", "timeout"),
                        Sample.of(AGENT_ERRORS, agentFailures.sum(), "reason", "failed"))));
        own.add(new MetricFamily(AGENT_DROPPED, MetricType.COUNTER,
                "Families of the agent's metrics left out: malformed, repeated, or named like one of the shim's.",
                List.of(Sample.of(AGENT_DROPPED, droppedFamilies.sum()))));
        own.sort(Comparator.comparing(MetricFamily::name));
        List<MetricFamily> all = new ArrayList<>(own.size() + agentFamilies.size());
        all.addAll(own);
        all.addAll(agentFamilies);
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
        List<VcpuCounter> counters = List.of();
        try {
            counters = hypervisor.vcpu();
        } catch (Exception e) {
            log.debug("hypervisor vCPU counters unavailable: {}", e.toString());
        }
        List<Sample> vcpu = new ArrayList<>(counters.size());
        for (VcpuCounter v : counters) {
            vcpu.add(Sample.of(HYPERVISOR + "_vcpu", v.value(), "cpu_id", Integer.toString(v.cpuId()), "item", v.item().label()));
        }
        families.add(new MetricFamily(HYPERVISOR + "_vcpu", MetricType.GAUGE,
                "Hypervisor metrics specific to VCPUs' mode of functioning.", vcpu));
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
        java.util.Optional<String> own = shim.procFs().networkNamespace("self");
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

    /** The agent call in flight, or a new one: concurrent scrapes share one GetMetrics. */
    private CompletableFuture<String> agentFetch() {
        while (true) {
            CompletableFuture<String> running = agentInFlight.get();
            if (running != null) {
                return running;
            }
            CompletableFuture<String> mine = new CompletableFuture<>();
            if (agentInFlight.compareAndSet(null, mine)) {
                Thread.ofVirtual().name("agent-metrics").start(() -> {
                    try {
                        mine.complete(agent.fetch());
                    } catch (Throwable e) {
                        mine.completeExceptionally(e);
                    } finally {
                        agentInFlight.compareAndSet(mine, null);
                    }
                });
                return mine;
            }
        }
    }

    private List<MetricFamily> agentFamilies(CompletableFuture<String> pending, long deadline, List<MetricFamily> own) {
        String text;
        try {
            text = pending.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            agentTimeouts.increment();
            agentProblem("no answer within " + agentTimeout.toMillis() + " ms");
            return List.of();
        } catch (ExecutionException e) {
            agentFailures.increment();
            agentProblem(String.valueOf(e.getCause()));
            return List.of();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return List.of();
        }
        lastAgentProblem = null;
        if (text == null) {
            return List.of();
        }
        TextFormatParser.Result parsed = TextFormatParser.parse(text);
        for (TextFormatParser.Rejected r : parsed.rejected()) {
            droppedFamilies.increment();
            logRejection("malformed: " + r);
        }
        Set<String> taken = new HashSet<>();
        for (MetricFamily f : own) {
            taken.add(f.name());
        }
        taken.add(SCRAPE_COUNT);
        taken.add(AGENT_ERRORS);
        taken.add(AGENT_DROPPED);
        List<MetricFamily> kept = new ArrayList<>(parsed.families().size());
        for (MetricFamily family : parsed.families()) {
            MetricFamily f = family;
            if (f.name().startsWith("go_") || f.name().startsWith("process_")) {
                f = f.renamed("kata_agent_" + f.name());
            }
            if (!taken.add(f.name())) {
                droppedFamilies.increment();
                logRejection(f.name() + ": already served by the shim (or twice by the agent)");
                continue;
            }
            kept.add(f);
        }
        kept.sort(Comparator.comparing(MetricFamily::name));
        return kept;
    }

    private void agentProblem(String what) {
        if (!what.equals(lastAgentProblem)) {
            log.warn("agent metrics left out of this scrape: {}", what);
            lastAgentProblem = what;
        }
    }

    private void logRejection(String what) {
        if (loggedRejections.size() < MAX_LOGGED_REJECTIONS && loggedRejections.add(what)) {
            log.warn("agent metrics: family dropped: {}", what);
        }
    }

    public static final class Builder {
        private final ShimMetrics shim;
        private LongSupplier hypervisorPid = () -> 0;
        private HypervisorMetrics hypervisor = HypervisorMetrics.NONE;
        private AgentMetricsSource agent;
        private PodOverhead podOverhead;
        private Duration agentTimeout = Duration.ofSeconds(2);

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

        public Builder agentMetrics(AgentMetricsSource source) {
            this.agent = source;
            return this;
        }

        public Builder podOverhead(PodOverhead overhead) {
            this.podOverhead = overhead;
            return this;
        }

        /** How long a scrape waits for the agent's part (default 2 s); then it is left out. */
        public Builder agentTimeout(Duration timeout) {
            if (timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("agent timeout must be positive: " + timeout);
            }
            this.agentTimeout = timeout;
            return this;
        }

        public SandboxMetrics build() {
            return new SandboxMetrics(this);
        }
    }
}
