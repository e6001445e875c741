package dev.katashim.metrics.overhead;

/**
 * Resource usage in one unit each: CPU time consumed so far in nanoseconds (cumulative), memory in
 * use now in bytes. Host cgroups (v1 {@code cpuacct.usage}, v2 {@code usage_usec} × 1000) and the
 * agent's StatsContainer ({@code cpu_stats.cpu_usage.total_usage}, nanoseconds as runc reports it on
 * both cgroup versions; {@code memory_stats.usage.usage}) are converted to this before they meet.
 */
public record Usage(long cpuNanos, long memoryBytes) {
    public static final Usage ZERO = new Usage(0, 0);
}
