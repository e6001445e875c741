package dev.katashim.metrics.server;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/** Who gets which rendering: a counting render stands for the sandbox's metrics. */
class SharedRenderingTest {
    @Test
    void aLoneScraperGetsAFreshRenderingEachTime() throws Exception {
        AtomicInteger renders = new AtomicInteger();
        SharedRendering shared = new SharedRendering(() -> Integer.toString(renders.incrementAndGet()).getBytes(StandardCharsets.UTF_8));
        for (int i = 1; i <= 5; i++) {
            assertThat(new String(shared.request().get(10, TimeUnit.SECONDS), StandardCharsets.UTF_8)).isEqualTo(Integer.toString(i));
        }
    }

    @Test
    void scrapesArrivingDuringARenderingShareLaterOnesThatStartAfterThemABatchEach() throws Exception {
        AtomicInteger renders = new AtomicInteger();
        CountDownLatch firstStarted = new CountDownLatch(1);
        CountDownLatch releaseFirst = new CountDownLatch(1);
        SharedRendering shared = new SharedRendering(() -> {
            int n = renders.incrementAndGet();
            if (n == 1) {
                firstStarted.countDown();
                releaseFirst.await();
            }
            return Integer.toString(n).getBytes(StandardCharsets.UTF_8);
        }, 8);
        CompletableFuture<byte[]> first = shared.request();
        assertThat(firstStarted.await(10, TimeUnit.SECONDS)).isTrue();
        List<CompletableFuture<byte[]>> storm = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            storm.add(shared.request());
        }
        releaseFirst.countDown();
        assertThat(new String(first.get(10, TimeUnit.SECONDS), StandardCharsets.UTF_8)).isEqualTo("1");
        for (int i = 0; i < storm.size(); i++) {
            // not the rendering that was running when they came: a later one, shared by eight, in the order they came
            assertThat(new String(storm.get(i).get(10, TimeUnit.SECONDS), StandardCharsets.UTF_8)).isEqualTo(Integer.toString(2 + i / 8));
        }
        assertThat(renders.get()).isEqualTo(1 + 7);
    }

    @Test
    void contendedRenderingsStartAtLeastTheMinimumIntervalApart() throws Exception {
        List<Long> starts = new CopyOnWriteArrayList<>();
        CountDownLatch firstStarted = new CountDownLatch(1);
        CountDownLatch releaseFirst = new CountDownLatch(1);
        SharedRendering shared = new SharedRendering(() -> {
            starts.add(System.nanoTime());
            if (starts.size() == 1) {
                firstStarted.countDown();
                releaseFirst.await();
            }
            return "fast".getBytes(StandardCharsets.UTF_8);
        }, 1);
        CompletableFuture<byte[]> first = shared.request();
        assertThat(firstStarted.await(10, TimeUnit.SECONDS)).isTrue();
        List<CompletableFuture<byte[]>> queued = List.of(shared.request(), shared.request(), shared.request());
        releaseFirst.countDown();
        first.get(10, TimeUnit.SECONDS);
        for (CompletableFuture<byte[]> scrape : queued) {
            scrape.get(10, TimeUnit.SECONDS);
        }
        // a fast rendering's pause alone would be nothing: the interval holds them apart (a lower bound, safe under load)
        for (int i = 2; i < starts.size(); i++) {
            assertThat(starts.get(i) - starts.get(i - 1)).as("start of rendering %d after the one before", i + 1)
                    .isGreaterThanOrEqualTo(SharedRendering.MIN_CONTENDED_INTERVAL_NANOS);
        }
        assertThat(starts).hasSize(4);
    }

    @Test
    void aScrapeThatGaveUpLeavesTheQueue() throws Exception {
        AtomicInteger renders = new AtomicInteger();
        CountDownLatch releaseFirst = new CountDownLatch(1);
        SharedRendering shared = new SharedRendering(() -> {
            if (renders.incrementAndGet() == 1) {
                releaseFirst.await();
            }
            return Integer.toString(renders.get()).getBytes(StandardCharsets.UTF_8);
        }, 1);
        CompletableFuture<byte[]> first = shared.request();
        CompletableFuture<byte[]> gaveUp = shared.request();
        CompletableFuture<byte[]> stayed = shared.request();
        gaveUp.cancel(false);
        releaseFirst.countDown();
        assertThat(new String(first.get(10, TimeUnit.SECONDS), StandardCharsets.UTF_8)).isEqualTo("1");
        // the batch of one went to the scrape still waiting, not to the one that left
        assertThat(new String(stayed.get(10, TimeUnit.SECONDS), StandardCharsets.UTF_8)).isEqualTo("2");
        assertThat(renders.get()).isEqualTo(2);
    }

    @Test
    void aFailedRenderingFailsItsScrapesOnlyAndTheNextOneWorks() throws Exception {
        AtomicInteger renders = new AtomicInteger();
        SharedRendering shared = new SharedRendering(() -> {
            if (renders.incrementAndGet() == 1) {
                throw new IllegalStateException("proc unreadable");
            }
            return "ok".getBytes(StandardCharsets.UTF_8);
        });
        assertThat(shared.request()).failsWithin(10, TimeUnit.SECONDS);
        assertThat(new String(shared.request().get(10, TimeUnit.SECONDS), StandardCharsets.UTF_8)).isEqualTo("ok");
    }
}
