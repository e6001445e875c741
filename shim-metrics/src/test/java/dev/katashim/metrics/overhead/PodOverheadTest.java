package dev.katashim.metrics.overhead;

import dev.katashim.metrics.expo.MetricFamily;
import dev.katashim.sys.ThreadSchedStat;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * The overhead's arithmetic on exact readings. The readings come from a FAKE (scripted usage):
 * exact values such as a counter going backwards cannot be caused on demand with real cgroups;
 * shim-core's HostCgroupTest measures with real ones.
 */
class PodOverheadTest {
    private record Reading(long atNanos, Usage host, Map<String, Usage> containers) {
    }

    /** FAKE inputs: replays scripted readings, each with the clock time it was taken at. */
    private static class ScriptedUsageFake implements PodOverhead.Inputs {
        final Deque<Reading> script = new ArrayDeque<>();
        final AtomicLong clock = new AtomicLong();
        Reading current;

        ScriptedUsageFake then(long atMillis, long hostCpuMillis, long hostMemory, Map<String, Usage> containers) {
            script.add(new Reading(atMillis * 1_000_000, new Usage(hostCpuMillis * 1_000_000, hostMemory), containers));
            return this;
        }

        void next(PodOverhead overhead) {
            current = script.poll();
            clock.set(current.atNanos());
            overhead.sampleOnce();
        }

        @Override
        public Usage host() {
            return current.host();
        }

        @Override
        public Map<String, Usage> containers() {
            return current.containers();
        }
    }

    private static Usage ms(long cpuMillis, long memory) {
        return new Usage(cpuMillis * 1_000_000, memory);
    }

    @Test
    void cpuIsHostMinusContainersOverTheWindowAndMemoryHostMinusContainersNow() {
        ScriptedUsageFake in = new ScriptedUsageFake()
                .then(0, 1_000, 500_000_000, Map.of("a", ms(600, 100_000_000), "b", ms(100, 50_000_000)))
                // 2 s later: host +1500 ms CPU, containers +900 and +300 ms → 300 ms of overhead in 2 s = 15 %
                .then(2_000, 2_500, 520_000_000, Map.of("a", ms(1_500, 120_000_000), "b", ms(400, 60_000_000)));
        PodOverhead overhead = new PodOverhead(in, in.clock::get);
        in.next(overhead);
        assertThat(overhead.latest()).isEmpty();
        assertThat(overhead.families()).allSatisfy(f -> assertThat(f.samples()).isEmpty()); // absent, not zero
        in.next(overhead);
        PodOverhead.Overhead o = overhead.latest().orElseThrow();
        assertThat(o.cpuPercent()).isCloseTo(15.0, within(1e-9));
        assertThat(o.memoryBytes()).isEqualTo(520_000_000 - 180_000_000);
        assertThat(o.window()).isEqualTo(Duration.ofSeconds(2));
        MetricFamily cpu = overhead.families().get(0);
        assertThat(cpu.name()).isEqualTo("kata_shim_pod_overhead_cpu");
        assertThat(cpu.samples().getFirst().value()).isCloseTo(15.0, within(1e-9));
        assertThat(overhead.families().get(1).samples().getFirst().value()).isEqualTo(340_000_000);
    }

    @Test
    void containerCpuCountsOnlyTheShareOfTimeTheVcpuThreadsGotAHostCpu() {
        Map<String, Usage> before = Map.of("burner", ms(0, 0));
        Map<String, Usage> after = Map.of("burner", ms(10_000, 0));
        // 10 s: the guest says its container ran 10 s; the vCPU thread ran 5 s and waited 5 s for a
        // CPU, and QEMU's cgroup used 6 s in all → 6 s − 10 s × 0.5 = 1 s of overhead = 10 %
        Deque<Optional<ThreadSchedStat>> vcpus = new ArrayDeque<>(List.of(
                Optional.of(new ThreadSchedStat(1_000_000_000L, 0)),
                Optional.of(new ThreadSchedStat(6_000_000_000L, 5_000_000_000L))));
        ScriptedUsageFake in = new ScriptedUsageFake() {
            @Override
            public Optional<ThreadSchedStat> vcpuThreads() {
                return vcpus.poll();
            }
        }.then(0, 0, 0, before).then(10_000, 6_000, 0, after);
        PodOverhead overhead = new PodOverhead(in, in.clock::get);
        in.next(overhead);
        in.next(overhead);
        assertThat(overhead.latest().orElseThrow().cpuPercent()).isCloseTo(10.0, within(1e-9));

        ScriptedUsageFake unscaled = new ScriptedUsageFake().then(0, 0, 0, before).then(10_000, 6_000, 0, after);
        PodOverhead withoutVcpus = new PodOverhead(unscaled, unscaled.clock::get);
        unscaled.next(withoutVcpus);
        unscaled.next(withoutVcpus);
        assertThat(withoutVcpus.latest().orElseThrow().cpuPercent()).as("no vCPU threads: share 1, clamped at 0").isZero();
    }

    @Test
    void largeCountersNeitherWrapNorLosePrecisionThatMatters() {
        long big = Long.MAX_VALUE / 2;
        ScriptedUsageFake in = new ScriptedUsageFake()
                .then(0, 0, 0, Map.of())
                .then(1_000, 0, 0, Map.of());
        in.script.clear();
        in.script.add(new Reading(0, new Usage(big, 1L << 40), Map.of("a", new Usage(big - 5_000_000_000L, 1L << 39))));
        in.script.add(new Reading(1_000_000_000, new Usage(big + 1_000_000_000, 1L << 40),
                Map.of("a", new Usage(big - 4_500_000_000L, 1L << 39))));
        PodOverhead overhead = new PodOverhead(in, in.clock::get);
        in.next(overhead);
        in.next(overhead);
        assertThat(overhead.latest().orElseThrow().cpuPercent()).isCloseTo(50.0, within(1e-6));
        assertThat(overhead.latest().orElseThrow().memoryBytes()).isEqualTo(1L << 39);
    }

    @Test
    void aWindowWhoseContainersChangedIsSkippedAndTheNextOneUsed() {
        ScriptedUsageFake in = new ScriptedUsageFake()
                .then(0, 0, 100, Map.of("a", ms(0, 10)))
                .then(1_000, 900, 100, Map.of("a", ms(100, 10), "b", ms(700, 10))) // b arrived: its CPU is on one side only
                .then(2_000, 1_400, 100, Map.of("a", ms(200, 10), "b", ms(1_000, 10)));
        PodOverhead overhead = new PodOverhead(in, in.clock::get);
        in.next(overhead);
        in.next(overhead);
        assertThat(overhead.latest()).isEmpty();
        in.next(overhead);
        assertThat(overhead.latest().orElseThrow().cpuPercent()).isCloseTo(10.0, within(1e-9)); // (500 - 400) / 1000
    }

    @Test
    void countersGoingBackwardsSkipTheWindowAndSkewNeverMakesItNegative() {
        ScriptedUsageFake in = new ScriptedUsageFake()
                .then(0, 5_000, 100, Map.of("a", ms(100, 10)))
                .then(1_000, 1_000, 100, Map.of("a", ms(200, 10)))     // host cgroup recreated: skipped
                .then(2_000, 1_100, 100, Map.of("a", ms(50, 10)))      // container counter reset: skipped
                .then(3_000, 1_200, 5, Map.of("a", ms(160, 10)));      // guest counted more than host (skew), memory too
        PodOverhead overhead = new PodOverhead(in, in.clock::get);
        in.next(overhead);
        in.next(overhead);
        assertThat(overhead.latest()).isEmpty();
        in.next(overhead);
        assertThat(overhead.latest()).isEmpty();
        in.next(overhead);
        assertThat(overhead.latest().orElseThrow().cpuPercent()).isZero();
        assertThat(overhead.latest().orElseThrow().memoryBytes()).isZero();
    }

    @Test
    void aFailingInputRestartsTheWindow() {
        ScriptedUsageFake in = new ScriptedUsageFake()
                .then(0, 0, 100, Map.of())
                .then(2_000, 100, 100, Map.of())
                .then(3_000, 300, 100, Map.of());
        PodOverhead overhead = new PodOverhead(new PodOverhead.Inputs() {
            int calls;

            @Override
            public Usage host() throws Exception {
                if (++calls == 2) {
                    throw new java.io.IOException("cgroup gone for a moment");
                }
                return in.host();
            }

            @Override
            public Map<String, Usage> containers() {
                return in.containers();
            }
        }, in.clock::get);
        in.next(overhead);
        in.next(overhead); // fails: no window
        assertThat(overhead.latest()).isEmpty();
        in.next(overhead); // a new first reading
        assertThat(overhead.latest()).isEmpty();
    }
}
