package dev.katashim.metrics.server;

import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * One {@code /metrics} answer rendered at a time, shared by the scrapes that wait for it, so that a
 * scrape storm cannot take the shim's CPU from its pod. A scrape that finds nothing being rendered
 * gets a rendering of its own, at once: a lone scraper never waits and never gets an old answer.
 * Scrapes that arrive while one is being rendered wait for the next, which starts after it and so
 * holds nothing older than their request; they all get that one. When a rendering had scrapes
 * waiting behind it (a storm, or many scrapers at once), the next one starts only after a pause
 * of {@link #PAUSE_FACTOR} times its duration: rendering then takes at most a quarter of one CPU,
 * however many clients ask.
 */
final class SharedRendering {
    /** After a contended rendering of d, the next one waits 3 d: at most a quarter of a CPU on rendering. */
    static final int PAUSE_FACTOR = 3;

    private final Callable<byte[]> render;
    private CompletableFuture<byte[]> rendering;
    private CompletableFuture<byte[]> next;

    SharedRendering(Callable<byte[]> render) {
        this.render = render;
    }

    /** The answer for a scrape arriving now: a rendering of its own if none runs, else a share of the next one. */
    synchronized CompletableFuture<byte[]> request() {
        if (rendering == null) {
            rendering = new CompletableFuture<>();
            start(rendering, 0);
            return rendering;
        }
        if (next == null) {
            next = new CompletableFuture<>();
        }
        return next;
    }

    private void start(CompletableFuture<byte[]> into, long pauseNanos) {
        Thread.ofVirtual().name("metrics-render").start(() -> {
            long started;
            try {
                if (pauseNanos > 0) {
                    TimeUnit.NANOSECONDS.sleep(pauseNanos);
                }
                started = System.nanoTime();
                into.complete(render.call());
            } catch (Throwable e) {
                into.completeExceptionally(e);
                started = System.nanoTime();
            }
            finished(System.nanoTime() - started);
        });
    }

    private synchronized void finished(long tookNanos) {
        if (next == null) {
            rendering = null;
            return;
        }
        rendering = next;
        next = null;
        start(rendering, tookNanos * PAUSE_FACTOR);
    }
}
