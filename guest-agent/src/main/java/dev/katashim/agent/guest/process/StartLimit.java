package dev.katashim.agent.guest.process;

import dev.katashim.ttrpc.server.CallContext;

import java.time.Duration;
import java.util.Locale;

/**
 * How long runc may take to start a process. The caller decides: the shim sends its deadline
 * (its {@code create_container_timeout} for a container's start), and runc gets that time less a
 * margin, so that the caller reads runc's reason rather than a bare deadline. A start no caller
 * waits for (one held for its terminal's window size) gets {@link #STANDARD}.
 */
public record StartLimit(Duration length, long deadlineNanoTime, String origin) {
    public static final Duration STANDARD = Duration.ofSeconds(60);
    /** Kept back of the caller's time, for cleaning up and answering before its deadline: a tenth, from 1 to 5 s. */
    private static final Duration LEAST_MARGIN = Duration.ofSeconds(1);
    private static final Duration MOST_MARGIN = Duration.ofSeconds(5);
    private static final Duration SHORTEST = Duration.ofSeconds(1);

    /** A limit of {@code length} from now; {@code origin} says who set it. */
    public static StartLimit of(Duration length, String origin) {
        if (length.isNegative() || length.isZero()) {
            throw new IllegalArgumentException("a start limit must be positive, not " + length);
        }
        return new StartLimit(length, System.nanoTime() + length.toNanos(), origin);
    }

    /** {@link #STANDARD} from now. */
    public static StartLimit standard() {
        return of(STANDARD, "the agent's limit for a start no caller waits for");
    }

    /** The caller's remaining time less the margin (at least a second), or {@link #STANDARD} without a deadline. */
    public static StartLimit of(CallContext call) {
        if (!call.hasDeadline()) {
            return standard();
        }
        Duration remaining = Duration.ofNanos(call.deadlineNanoTime() - System.nanoTime());
        Duration margin = clamp(remaining.dividedBy(10), LEAST_MARGIN, MOST_MARGIN);
        Duration left = remaining.minus(margin);
        return of(left.compareTo(SHORTEST) < 0 ? SHORTEST : left,
                "the caller's deadline less " + seconds(margin) + "; the shim's create_container_timeout sets it");
    }

    private static Duration clamp(Duration value, Duration least, Duration most) {
        return value.compareTo(least) < 0 ? least : value.compareTo(most) > 0 ? most : value;
    }

    /** What is left of it (zero once it passed). */
    public Duration left() {
        long nanos = deadlineNanoTime - System.nanoTime();
        return nanos <= 0 ? Duration.ZERO : Duration.ofNanos(nanos);
    }

    /** "60.0 s (origin)". */
    public String describe() {
        return seconds(length) + " (" + origin + ")";
    }

    private static String seconds(Duration duration) {
        return String.format(Locale.ROOT, "%.1f s", duration.toMillis() / 1000.0);
    }
}
