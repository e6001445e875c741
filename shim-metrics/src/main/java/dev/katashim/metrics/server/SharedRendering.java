package dev.katashim.metrics.server;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * One {@code /metrics} answer rendered at a time, shared by the scrapes that wait for it, so that a
 * scrape storm cannot take the shim's CPU from its pod. A scrape that finds nothing being rendered
 * gets a rendering of its own, at once: a lone scraper never waits and never gets an old answer.
 * Scrapes that arrive while one is being rendered queue for a later one, which starts after they
 * came and so holds nothing older than their request; up to {@link #DEFAULT_BATCH} of them, in
 * the order they came, share each. When a rendering had scrapes waiting behind it (a storm, or
 * many scrapers at once), the next one starts only after a pause of {@link #PAUSE_FACTOR} times
 * its duration, and no sooner than {@link #MIN_CONTENDED_INTERVAL_NANOS} after it began. So a storm
 * costs at most a tenth of one CPU for rendering, and gets at most a batch of answers per ten
 * renderings' time and per interval however many clients ask. (Every waiting scrape served from
 * each rendering, at a pause of 3 d, meant 500-1,350 answers a second to a storm of 100 clients on
 * a VM sandbox.)
 */
final class SharedRendering {
    /**
     * After a contended rendering of d, the next one waits 9 d: at most a tenth of a CPU on
     * rendering. (At 3 d, a storm on a VM sandbox cost the shim a third of a core, taken from the
     * guest on a busy 2-core host, and the agent's answers slowed by 2.2 times.)
     */
    static final int PAUSE_FACTOR = 9;
    /**
     * Contended renderings start at least this far apart, however fast one is: a storm gets at most
     * five renderings, forty answers, a second. With the pause alone, a storm of 100 clients on a
     * VM sandbox got 95 answers a second, and under a 2-core CPU hog the guest agent's Stats slowed
     * 2.2 times (the shim's CPU is taken from QEMU there); with the interval, 43 a second and no
     * slowdown.
     */
    static final long MIN_CONTENDED_INTERVAL_NANOS = TimeUnit.MILLISECONDS.toNanos(200);
    /** How many queued scrapes share one rendering: more than a node has scrapers of one sandbox. */
    static final int DEFAULT_BATCH = 8;

    private final Callable<byte[]> render;
    private final int batch;
    private final ArrayDeque<CompletableFuture<byte[]>> queued = new ArrayDeque<>();
    private boolean rendering;

    SharedRendering(Callable<byte[]> render) {
        this(render, DEFAULT_BATCH);
    }

    SharedRendering(Callable<byte[]> render, int batch) {
        if (batch < 1) {
            throw new IllegalArgumentException("a rendering is shared by at least one scrape, not " + batch);
        }
        this.render = render;
        this.batch = batch;
    }

    /**
     * The answer for a scrape arriving now: a rendering of its own if none runs, else its share of
     * a later one. A scrape that gives up cancels its future and leaves the queue.
     */
    synchronized CompletableFuture<byte[]> request() {
        CompletableFuture<byte[]> answer = new CompletableFuture<>();
        if (rendering) {
            queued.add(answer);
        } else {
            rendering = true;
            start(List.of(answer), 0);
        }
        return answer;
    }

    private void start(List<CompletableFuture<byte[]>> into, long pauseNanos) {
        Thread.ofVirtual().name("metrics-render").start(() -> {
            long started;
            try {
                if (pauseNanos > 0) {
                    TimeUnit.NANOSECONDS.sleep(pauseNanos);
                }
                started = System.nanoTime();
                byte[] body = render.call();
                into.forEach(f -> f.complete(body));
            } catch (Throwable e) {
                into.forEach(f -> f.completeExceptionally(e));
                started = System.nanoTime();
            }
            finished(System.nanoTime() - started);
        });
    }

    private synchronized void finished(long tookNanos) {
        queued.removeIf(CompletableFuture::isDone); // gave up waiting
        if (queued.isEmpty()) {
            rendering = false;
            return;
        }
        List<CompletableFuture<byte[]>> next = new ArrayList<>(batch);
        while (next.size() < batch && !queued.isEmpty()) {
            next.add(queued.poll());
        }
        start(next, Math.max(tookNanos * PAUSE_FACTOR, MIN_CONTENDED_INTERVAL_NANOS - tookNanos));
    }
}
