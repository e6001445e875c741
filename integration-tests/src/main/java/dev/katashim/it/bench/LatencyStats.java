package dev.katashim.it.bench;

import java.util.Arrays;

/** Percentiles of a set of measured durations, in microseconds. */
public record LatencyStats(int samples, double p50Micros, double p99Micros, double meanMicros) {

    public static LatencyStats of(long[] nanos) {
        long[] sorted = nanos.clone();
        Arrays.sort(sorted);
        return new LatencyStats(sorted.length, percentile(sorted, 0.50) / 1000.0, percentile(sorted, 0.99) / 1000.0,
                Arrays.stream(sorted).average().orElse(0) / 1000.0);
    }

    private static long percentile(long[] sorted, double q) {
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(q * sorted.length) - 1)];
    }
}
