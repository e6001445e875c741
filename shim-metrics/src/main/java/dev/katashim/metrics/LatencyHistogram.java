package dev.katashim.metrics;

import dev.katashim.metrics.expo.MetricFamily;
import dev.katashim.metrics.expo.MetricType;
import dev.katashim.metrics.expo.Sample;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * A latency histogram in milliseconds with one series per value of its label ({@code action}; or a
 * single series without a label) and upstream's buckets
 * (ExponentialBuckets(1, 2, 10): 1, 2, 4 … 512 ms, then +Inf). Observing allocates nothing: one
 * map lookup (the action strings hash once), a bucket search over ten longs, two LongAdder
 * increments. An action's series appears on its first observation, as with upstream's Go shim
 * (a Prometheus HistogramVec): an action never called costs a Prometheus no series. Actions are
 * names from code, not from requests, so they are few; still, at most 256 are kept.
 */
public final class LatencyHistogram {
    private static final Logger log = LoggerFactory.getLogger(LatencyHistogram.class);

    static final double[] BUCKETS_MS = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512};
    private static final long[] BOUNDS_NANOS = new long[BUCKETS_MS.length];
    private static final String[] LE = new String[BUCKETS_MS.length + 1];
    private static final int MAX_SERIES = 256;

    static {
        for (int i = 0; i < BUCKETS_MS.length; i++) {
            BOUNDS_NANOS[i] = (long) (BUCKETS_MS[i] * 1_000_000);
            LE[i] = Long.toString((long) BUCKETS_MS[i]);
        }
        LE[BUCKETS_MS.length] = "+Inf";
    }

    private final String name;
    private final String help;
    private final String label;
    private final ConcurrentHashMap<String, Series> series = new ConcurrentHashMap<>();

    /** A histogram with one series per value of {@code label}, each appearing on its first observation. */
    public LatencyHistogram(String name, String help, String label) {
        this.name = name;
        this.help = help;
        this.label = label;
    }

    /** A histogram of one series, without labels (observe it as {@code ""}); it appears on its first observation. */
    public LatencyHistogram(String name, String help) {
        this(name, help, null);
    }

    /** Records one duration of the series {@code action} (for an unlabelled histogram: ""). */
    public void observe(String action, long durationNanos) {
        if (action == null) {
            return; // a method the caller could not name: nothing to file it under
        }
        Series s = series.get(action);
        if (s == null) {
            s = join(action);
            if (s == null) {
                return;
            }
        }
        s.observe(durationNanos);
    }

    private Series join(String action) {
        if (series.size() >= MAX_SERIES) {
            log.warn("{}: more than {} actions; not recording '{}'", name, MAX_SERIES, action);
            return null;
        }
        return series.computeIfAbsent(action, a -> new Series());
    }

    /** The histogram now: cumulative buckets, and {@code _count} equal to the +Inf bucket by construction. */
    public MetricFamily family() {
        List<Sample> samples = new ArrayList<>(series.size() * (LE.length + 2));
        Map<String, Series> sorted = new TreeMap<>(series);
        long[] counts = new long[LE.length];
        sorted.forEach((action, s) -> {
            long cumulative = 0;
            for (int i = 0; i < LE.length; i++) {
                counts[i] = s.buckets[i].sum();
            }
            String[] by = label == null ? new String[0] : new String[]{label, action};
            for (int i = 0; i < LE.length; i++) {
                cumulative += counts[i];
                String[] labels = java.util.Arrays.copyOf(by, by.length + 2);
                labels[by.length] = "le";
                labels[by.length + 1] = LE[i];
                samples.add(Sample.of(name + "_bucket", cumulative, labels));
            }
            samples.add(Sample.of(name + "_sum", s.sumNanos.sum() / 1_000_000.0, by));
            samples.add(Sample.of(name + "_count", cumulative, by));
        });
        return new MetricFamily(name, MetricType.HISTOGRAM, help, "milliseconds", samples);
    }

    /** One action's counts: per bucket (not cumulative; the last is above 512 ms) and the sum. */
    private static final class Series {
        final LongAdder[] buckets = new LongAdder[LE.length];
        final LongAdder sumNanos = new LongAdder();

        Series() {
            for (int i = 0; i < buckets.length; i++) {
                buckets[i] = new LongAdder();
            }
        }

        void observe(long nanos) {
            long n = Math.max(0, nanos);
            int i = 0;
            while (i < BOUNDS_NANOS.length && n > BOUNDS_NANOS[i]) {
                i++;
            }
            buckets[i].increment();
            sumNanos.add(n);
        }
    }
}
