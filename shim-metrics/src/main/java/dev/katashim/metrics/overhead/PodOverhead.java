package dev.katashim.metrics.overhead;

import dev.katashim.metrics.expo.MetricFamily;
import dev.katashim.metrics.expo.MetricType;
import dev.katashim.metrics.expo.Sample;
import dev.katashim.sys.ThreadSchedStat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * The pod overhead: what the sandbox costs the host beyond what its containers use, sampled on its
 * own schedule (every {@code interval}, not when someone scrapes):
 * <pre>
 *   cpu %  = (Δ host CPU − Σ Δ container CPU × vCPU run share) / Δt × 100
 *   memory = host memory now − Σ container memory now
 *   vCPU run share = Δ vCPU threads' run time / (Δ their run time + Δ their run-queue wait)
 * </pre>
 * The share matters in a VM on a busy host: the guest's clock runs on while its vCPU thread waits
 * for a host CPU, so a guest that was busy for 10 s reports 10 s of container CPU even when the
 * host gave its vCPU 5 s. Without vCPU threads (the no-VM sandbox), or with no run or wait in the
 * window, the share is 1.
 * Everything is in one unit (ns, bytes; see {@link Usage}) and signed 64-bit arithmetic, so nothing
 * wraps. A window is not used when it cannot be right: a counter went backwards (a cgroup was
 * recreated), or the set of containers changed (a container's CPU would be counted on one side only);
 * the next window is. Skew between the host and guest readings can make a small result negative: it
 * is reported as 0, since a sandbox cannot cost less than its containers.
 * Until the first window completes, the two series are absent.
 */
public final class PodOverhead implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(PodOverhead.class);
    public static final String CPU = "kata_shim_pod_overhead_cpu";
    public static final String MEMORY = "kata_shim_pod_overhead_memory_in_bytes";

    /** What the shim supplies. Both may block briefly (the containers' usage is a StatsContainer per container). */
    public interface Inputs {
        /** The sandbox's host cgroup: what the VMM (or host agent) uses, read by the shim's resource package. */
        Usage host() throws Exception;

        /** Each container's usage as the agent reports it (StatsContainer), by container id. */
        Map<String, Usage> containers() throws Exception;

        /** The VMM's vCPU threads' scheduler time summed; empty without vCPU threads (no VM) or when unknown. */
        default Optional<ThreadSchedStat> vcpuThreads() throws Exception {
            return Optional.empty();
        }
    }

    /** One result: CPU percent (100 = one CPU) over {@code window}, memory in bytes at its end. */
    public record Overhead(double cpuPercent, long memoryBytes, Duration window) {
    }

    private record Snapshot(long atNanos, Usage host, Map<String, Usage> containers, Optional<ThreadSchedStat> vcpus) {
    }

    /** How long the window after a restart lasts: long enough for a CPU percent, short enough for a new pod. */
    static final Duration SHORT_WINDOW = Duration.ofSeconds(1);

    private final Inputs inputs;
    private final LongSupplier clock;
    private Snapshot previous;
    private volatile Overhead latest;
    private volatile Long latestMemory;
    private String lastProblem;
    private Thread sampler;
    private final Semaphore nudges = new Semaphore(0);

    PodOverhead(Inputs inputs, LongSupplier nanoClock) {
        this.inputs = inputs;
        this.clock = nanoClock;
    }

    /**
     * Starts sampling now and then every {@code interval} on a virtual thread of its own. A window
     * that could not complete (the first, or one during which the containers changed) is followed by
     * a short one ({@link #SHORT_WINDOW}), so that a new pod's overhead is known within seconds.
     */
    public static PodOverhead start(Inputs inputs, Duration interval) {
        if (interval.isNegative() || interval.isZero()) {
            throw new IllegalArgumentException("sampling interval must be positive: " + interval);
        }
        PodOverhead overhead = new PodOverhead(inputs, System::nanoTime);
        overhead.sampler = Thread.ofVirtual().name("pod-overhead").start(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                boolean completed = overhead.sample();
                Duration wait = completed ? interval : SHORT_WINDOW.compareTo(interval) < 0 ? SHORT_WINDOW : interval;
                try {
                    // a nudge (the containers changed) ends the wait: that window is restarted from now
                    overhead.nudges.tryAcquire(wait.toNanos(), TimeUnit.NANOSECONDS);
                    overhead.nudges.drainPermits();
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        return overhead;
    }

    /** The sandbox started or lost a container: restart the window now rather than skip it at its end. */
    public void containersChanged() {
        nudges.release();
    }

    /** Takes one snapshot and, with the one before, completes a window. */
    synchronized void sampleOnce() {
        sample();
    }

    /** {@link #sampleOnce}; whether a window was completed. */
    private synchronized boolean sample() {
        Snapshot now;
        try {
            Usage host = inputs.host();
            Map<String, Usage> containers = Map.copyOf(inputs.containers());
            now = new Snapshot(clock.getAsLong(), host, containers, inputs.vcpuThreads());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } catch (Exception e) {
            problem("cannot read usage: " + e);
            previous = null; // the next window starts afresh
            return false;
        }
        long guestMemory = 0;
        for (Usage usage : now.containers().values()) {
            guestMemory += usage.memoryBytes();
        }
        latestMemory = Math.max(0, now.host().memoryBytes() - guestMemory);
        Snapshot before = previous;
        previous = now;
        if (before == null) {
            return false;
        }
        long elapsed = now.atNanos() - before.atNanos();
        long hostCpu = now.host().cpuNanos() - before.host().cpuNanos();
        if (elapsed <= 0 || hostCpu < 0) {
            problem("host CPU counter went backwards (cgroup recreated?): window skipped");
            return false;
        }
        if (!now.containers().keySet().equals(before.containers().keySet())) {
            log.debug("pod overhead: the containers changed during the window: it starts again from now");
            return false;
        }
        long guestCpu = 0;
        for (Map.Entry<String, Usage> e : now.containers().entrySet()) {
            long delta = e.getValue().cpuNanos() - before.containers().get(e.getKey()).cpuNanos();
            if (delta < 0) {
                problem("container " + e.getKey() + "'s CPU counter went backwards: window skipped");
                return false;
            }
            guestCpu += delta;
        }
        double cpuPercent = Math.max(0.0, (hostCpu - guestCpu * runShare(before, now)) / elapsed * 100.0);
        latest = new Overhead(cpuPercent, latestMemory, Duration.ofNanos(elapsed));
        lastProblem = null;
        return true;
    }

    /** The part of the vCPU threads' runnable time they got a host CPU for, over the window; 1 when unknown. */
    static double runShare(Snapshot before, Snapshot now) {
        if (before.vcpus().isEmpty() || now.vcpus().isEmpty()) {
            return 1.0;
        }
        long ran = now.vcpus().get().runNanos() - before.vcpus().get().runNanos();
        long waited = now.vcpus().get().waitNanos() - before.vcpus().get().waitNanos();
        if (ran < 0 || waited < 0 || ran + waited == 0) {
            return 1.0;
        }
        return (double) ran / (ran + waited);
    }

    private void problem(String what) {
        if (!what.equals(lastProblem)) {
            log.warn("pod overhead: {}", what);
            lastProblem = what;
        }
    }

    /** The last completed window, if any. */
    public Optional<Overhead> latest() {
        return Optional.ofNullable(latest);
    }

    /** {@code kata_shim_pod_overhead_cpu} and {@code kata_shim_pod_overhead_memory_in_bytes}; empty until known. */
    public List<MetricFamily> families() {
        Overhead o = latest;
        Long memory = latestMemory;
        return List.of(
                new MetricFamily(CPU, MetricType.GAUGE, "Kata Pod overhead for CPU resources(percent).", "percent",
                        o == null ? List.of() : List.of(Sample.of(CPU, o.cpuPercent()))),
                new MetricFamily(MEMORY, MetricType.GAUGE, "Kata Pod overhead for memory resources(bytes).", "bytes",
                        memory == null || o == null ? List.of() : List.of(Sample.of(MEMORY, memory))));
    }

    /** Stops sampling; returns once the sampler is gone. */
    @Override
    public void close() {
        Thread t = sampler;
        if (t != null) {
            t.interrupt();
            try {
                t.join(Duration.ofSeconds(5));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
