package dev.katashim.metrics;

import dev.katashim.metrics.expo.MetricFamily;
import dev.katashim.metrics.expo.Sample;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;

import static org.assertj.core.api.Assertions.assertThat;

class LatencyHistogramTest {

    private static double value(MetricFamily f, String sample, String action, String le) {
        return f.samples().stream().filter(s -> s.name().equals(sample) && action.equals(s.label("action"))
                        && (le == null || le.equals(s.label("le"))))
                .findFirst().orElseThrow(() -> new AssertionError(sample + " " + action + " " + le)).value();
    }

    @Test
    void aDurationFallsInTheFirstBucketItDoesNotExceed() {
        LatencyHistogram h = new LatencyHistogram("h_milliseconds", "x", "action");
        h.observe("a", 1_000_000);      // exactly 1 ms: le="1"
        h.observe("a", 1_000_001);      // just above: le="2"
        h.observe("a", 512_000_000);    // 512 ms: le="512"
        h.observe("a", 600_000_000);    // above every bound: +Inf only
        h.observe("a", -5);             // a clock that went backwards counts as 0
        MetricFamily f = h.family();
        assertThat(value(f, "h_milliseconds_bucket", "a", "1")).isEqualTo(2);
        assertThat(value(f, "h_milliseconds_bucket", "a", "2")).isEqualTo(3);
        assertThat(value(f, "h_milliseconds_bucket", "a", "256")).isEqualTo(3);
        assertThat(value(f, "h_milliseconds_bucket", "a", "512")).isEqualTo(4);
        assertThat(value(f, "h_milliseconds_bucket", "a", "+Inf")).isEqualTo(5);
        assertThat(value(f, "h_milliseconds_count", "a", null)).isEqualTo(5);
        assertThat(value(f, "h_milliseconds_sum", "a", null)).isEqualTo(1114.000001);
    }

    @Test
    void anActionHasItsSeriesFromItsFirstCallAndNoneBefore() {
        LatencyHistogram h = new LatencyHistogram("h", "x", "action");
        assertThat(h.family().samples()).isEmpty(); // nothing called: nothing for a Prometheus to store
        h.observe("create", 10);
        h.observe("grpc.ReadStreamRequest", 10);
        assertThat(h.family().samples().stream().map(s -> s.label("action")).distinct()).containsExactly("create", "grpc.ReadStreamRequest");
        assertThat(h.family().samples()).hasSize(2 * 13); // 11 buckets, _sum and _count per action
        h.observe(null, 10); // a method without an action is not recorded
        assertThat(h.family().samples().stream().map(s -> s.label("action")).distinct()).hasSize(2);
    }

    @Test
    void concurrentObservationsAreAllCounted() throws Exception {
        LatencyHistogram h = new LatencyHistogram("h", "x", "action");
        int threads = 8;
        int each = 50_000;
        CountDownLatch go = new CountDownLatch(1);
        try (var pool = Executors.newFixedThreadPool(threads)) {
            for (int t = 0; t < threads; t++) {
                pool.submit(() -> {
                    go.await();
                    for (int i = 0; i < each; i++) {
                        h.observe("a", i % 3 == 0 ? 3_000_000 : 500_000);
                    }
                    return null;
                });
            }
            go.countDown();
        }
        MetricFamily f = h.family();
        assertThat(value(f, "h_count", "a", null)).isEqualTo(threads * each);
        assertThat(value(f, "h_bucket", "a", "1") + (value(f, "h_bucket", "a", "4") - value(f, "h_bucket", "a", "2")))
                .isEqualTo(threads * each);
    }

    @Test
    void observingAllocatesNothing() {
        ShimMetrics metrics = new ShimMetrics();
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        String[] actions = {"create", "start", "state", "wait", "kill", "delete", "exec", "resize_pty"};
        for (int i = 0; i < 200_000; i++) { // warm up: compiled, and the adders' cells are there
            metrics.observeShimRpc(actions[i % actions.length], i);
            metrics.observeAgentRpc("grpc.CreateContainerRequest", i);
        }
        long before = mx.getCurrentThreadAllocatedBytes();
        for (int i = 0; i < 1_000_000; i++) {
            metrics.observeShimRpc(actions[i % actions.length], i * 37L);
            metrics.observeAgentRpc("grpc.CreateContainerRequest", i);
        }
        long allocated = mx.getCurrentThreadAllocatedBytes() - before;
        // two million observations; a single boxed long or an array each would be > 16 MB
        assertThat(allocated).as("bytes allocated by 2,000,000 observations").isLessThan(64 * 1024);
    }

    @Test
    void anUnlabelledHistogramHasOneSeries() {
        LatencyHistogram h = new LatencyHistogram("m", "x");
        assertThat(h.family().samples()).isEmpty();
        h.observe("", 2_500_000);
        List<Sample> samples = h.family().samples();
        assertThat(samples).hasSize(13).allSatisfy(s -> assertThat(s.labels().stream().map(l -> l.name()).toList())
                .isSubsetOf("le"));
    }
}
