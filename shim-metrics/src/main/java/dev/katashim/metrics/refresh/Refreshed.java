package dev.katashim.metrics.refresh;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.LongAdder;

/**
 * The last result of a slow source (the agent's GetMetrics, QEMU's QMP), fetched in the
 * background so that a reader never waits for it. A virtual thread asks the source every
 * {@link Schedule#period()}, one call at a time: a call still running when the next is due is
 * waited for, not piled upon. {@link #latest()} answers at once with the last success and when it
 * was fetched, or nothing when there is none or the latest attempt failed (a source that fails is
 * not shown as if it were still well). Nobody reading for {@link Schedule#pauseAfter()}: the
 * thread rests until the next read, so an unwatched sandbox costs its guest nothing.
 */
public final class Refreshed<T> implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Refreshed.class);

    /** A source's call. */
    @FunctionalInterface
    public interface Source<T> {
        T fetch() throws Exception;
    }

    /** One success: the value and {@link System#nanoTime()} when it arrived. */
    public record Fetched<T>(T value, long atNanos) {
        public Duration age() {
            return Duration.ofNanos(Math.max(0, System.nanoTime() - atNanos));
        }
    }

    /**
     * @param period     how often the source is asked
     * @param timeout    how long a call may take before it counts as timed out (it is still waited for)
     * @param pauseAfter no reads for this long: stop asking until the next read
     */
    public record Schedule(Duration period, Duration timeout, Duration pauseAfter) {
        public Schedule {
            for (Duration d : new Duration[]{period, timeout, pauseAfter}) {
                if (d.isNegative() || d.isZero()) {
                    throw new IllegalArgumentException("refresh durations must be positive: " + d);
                }
            }
        }
    }

    private final String name;
    private final Source<T> source;
    private final Schedule schedule;
    private final Semaphore wake = new Semaphore(0);
    private final LongAdder timeouts = new LongAdder();
    private final LongAdder failures = new LongAdder();
    private final Thread loop;

    private volatile Fetched<T> last;
    private volatile boolean lastAttemptFailed;
    private volatile long lastReadNanos = System.nanoTime();
    private volatile boolean resting;
    private volatile boolean closed;
    private volatile CompletableFuture<T> inFlight;
    private volatile Thread caller;
    private volatile String lastProblem;

    private Refreshed(String name, Source<T> source, Schedule schedule) {
        this.name = name;
        this.source = source;
        this.schedule = schedule;
        this.loop = Thread.ofVirtual().name("refresh-" + name).unstarted(this::run);
    }

    /** Starts asking {@code source} now, then every period. */
    public static <T> Refreshed<T> start(String name, Source<T> source, Schedule schedule) {
        Refreshed<T> refreshed = new Refreshed<>(name, Objects.requireNonNull(source), schedule);
        refreshed.loop.start();
        return refreshed;
    }

    /** The last success, unless the latest attempt failed or timed out; never blocks. */
    public Optional<Fetched<T>> latest() {
        // what is known at the read, taken before a resting loop is woken to fetch anew
        Fetched<T> known = last;
        boolean failed = lastAttemptFailed;
        lastReadNanos = System.nanoTime();
        if (resting) {
            wake.release();
        }
        return known == null || failed ? Optional.empty() : Optional.of(known);
    }

    /** Whether the loop rests for want of readers (tests wait for it rather than guess from silence). */
    boolean resting() {
        return resting;
    }

    /** Calls that took longer than the timeout. */
    public long timeouts() {
        return timeouts.sum();
    }

    /** Calls that failed. */
    public long failures() {
        return failures.sum();
    }

    public Schedule schedule() {
        return schedule;
    }

    private void run() {
        try {
            while (!closed) {
                long started = System.nanoTime();
                attempt();
                long next = started + schedule.period().toNanos();
                wake.drainPermits();
                wake.tryAcquire(Math.max(0, next - System.nanoTime()), TimeUnit.NANOSECONDS);
                if (System.nanoTime() - lastReadNanos > schedule.pauseAfter().toNanos()) {
                    resting = true;
                    log.debug("{}: nobody reads; resting until the next read", name);
                    wake.drainPermits();
                    if (System.nanoTime() - lastReadNanos > schedule.pauseAfter().toNanos()) {
                        wake.acquire();
                    }
                    resting = false;
                }
            }
        } catch (InterruptedException e) {
            // closed
        }
    }

    /** One call, or the wait for the one still running; counts a timeout once per call. */
    private void attempt() throws InterruptedException {
        CompletableFuture<T> call = inFlight;
        boolean fresh = call == null || call.isDone();
        if (fresh) {
            call = new CompletableFuture<>();
            inFlight = call;
            CompletableFuture<T> mine = call;
            caller = Thread.ofVirtual().name("refresh-" + name + "-call").start(() -> {
                try {
                    T value = source.fetch();
                    last = new Fetched<>(value, System.nanoTime());
                    lastAttemptFailed = false;
                    lastProblem = null;
                    mine.complete(value);
                } catch (Throwable e) {
                    mine.completeExceptionally(e);
                }
            });
        }
        try {
            call.get(schedule.timeout().toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            if (fresh) {
                timeouts.increment();
                lastAttemptFailed = true;
                problem("no answer within " + schedule.timeout().toMillis() + " ms");
            }
        } catch (ExecutionException e) {
            if (fresh) { // a late failure of a call already counted as timed out is not counted twice
                failures.increment();
            }
            lastAttemptFailed = true;
            problem(String.valueOf(e.getCause()));
        }
    }

    private void problem(String what) {
        if (!what.equals(lastProblem)) {
            lastProblem = what;
            log.warn("{}: {}; its last result is left out until it answers", name, what);
        }
    }

    /** Stops asking; a call still running is interrupted. */
    @Override
    public void close() {
        closed = true;
        loop.interrupt();
        Thread running = caller;
        if (running != null) {
            running.interrupt();
        }
        try {
            loop.join(Duration.ofSeconds(2));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
