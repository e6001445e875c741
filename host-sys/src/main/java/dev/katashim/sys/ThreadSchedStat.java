package dev.katashim.sys;

import java.util.Optional;

/**
 * A thread's scheduler figures ({@code /proc/<pid>/task/<tid>/schedstat}): time it ran on a CPU and
 * time it waited on a run queue, both cumulative nanoseconds. A TCG vCPU thread's guest counts
 * both as its own time; only the first was spent.
 */
public record ThreadSchedStat(long runNanos, long waitNanos) {
    public static final ThreadSchedStat ZERO = new ThreadSchedStat(0, 0);

    /** Parses the file's "run wait timeslices" line; empty when it is not that. */
    public static Optional<ThreadSchedStat> parse(String text) {
        String[] fields = text.strip().split("\\s+");
        if (fields.length < 2) {
            return Optional.empty();
        }
        try {
            return Optional.of(new ThreadSchedStat(Long.parseLong(fields[0]), Long.parseLong(fields[1])));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    public ThreadSchedStat plus(ThreadSchedStat other) {
        return new ThreadSchedStat(runNanos + other.runNanos, waitNanos + other.waitNanos);
    }
}
