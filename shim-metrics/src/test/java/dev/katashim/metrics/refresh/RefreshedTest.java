package dev.katashim.metrics.refresh;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The background refresher with sources of its own (counters, latches): what a reader sees, and what the source is asked. */
class RefreshedTest {
    /** How long the background thread may take to do what it should here, both cores busy. */
    private static final Duration DEADLINE = Duration.ofSeconds(10);

    @Test
    void aReaderGetsTheLastResultAtOnceWithItsAge() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        try (Refreshed<Integer> r = Refreshed.start("count", calls::incrementAndGet,
                new Refreshed.Schedule(Duration.ofMillis(20), Duration.ofSeconds(5), Duration.ofMinutes(1)))) {
            await().atMost(DEADLINE).until(() -> r.latest().map(Refreshed.Fetched::value).orElse(0) >= 3);
            Refreshed.Fetched<Integer> last = r.latest().orElseThrow();
            assertThat(last.age()).isLessThan(DEADLINE);
            assertThat(r.failures()).isZero();
            assertThat(r.timeouts()).isZero();
        }
    }

    @Test
    void nobodyReadingItRestsAndTheNextReadWakesIt() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        try (Refreshed<Integer> r = Refreshed.start("rest", calls::incrementAndGet,
                new Refreshed.Schedule(Duration.ofMillis(20), Duration.ofSeconds(5), Duration.ofMillis(200)))) {
            // 200 ms without a read: it stops asking, whatever the 20 ms period says (silence alone
            // proves nothing on a busy machine: a starved thread is silent too)
            await().atMost(DEADLINE).until(r::resting);
            int resting = calls.get();
            Thread.sleep(500);
            assertThat(calls.get()).as("calls while nobody reads").isEqualTo(resting);
            assertThat(r.latest()).as("the last result, however old").hasValueSatisfying(f -> assertThat(f.value()).isEqualTo(resting));
            await().atMost(DEADLINE).until(() -> calls.get() > resting);
        }
    }

    @Test
    void aFailingSourceShowsNothingUntilItAnswersAgain() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        try (Refreshed<Integer> r = Refreshed.start("flaky", () -> {
            int n = calls.incrementAndGet();
            if (n >= 2 && n <= 4) {
                throw new IllegalStateException("agent gone");
            }
            return n;
        }, new Refreshed.Schedule(Duration.ofMillis(20), Duration.ofSeconds(5), Duration.ofMinutes(1)))) {
            await().atMost(DEADLINE).until(() -> r.failures() >= 1);
            await().atMost(DEADLINE).until(() -> r.latest().isPresent() && r.latest().get().value() >= 5);
            assertThat(r.failures()).isEqualTo(3);
        }
    }

    @Test
    void closingEndsAStuckCallAndTheThread() throws Exception {
        CountDownLatch called = new CountDownLatch(1);
        CountDownLatch interrupted = new CountDownLatch(1);
        AtomicInteger calls = new AtomicInteger();
        Refreshed<String> r = Refreshed.start("stuck", () -> {
            calls.incrementAndGet();
            called.countDown();
            try {
                new CountDownLatch(1).await();
            } catch (InterruptedException e) {
                interrupted.countDown();
                throw e;
            }
            return "never";
        }, new Refreshed.Schedule(Duration.ofMillis(20), Duration.ofMillis(50), Duration.ofMinutes(1)));
        assertThat(called.await(DEADLINE.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
        await().atMost(DEADLINE).until(() -> r.timeouts() == 1);
        r.close();
        assertThat(interrupted.await(DEADLINE.toMillis(), TimeUnit.MILLISECONDS)).as("the stuck call interrupted").isTrue();
        assertThat(r.timeouts()).as("a stuck call counts once").isEqualTo(1);
        Thread.sleep(300); // fifteen periods: a loop still running would have asked again once the call ended
        assertThat(calls.get()).isEqualTo(1);
    }
}
