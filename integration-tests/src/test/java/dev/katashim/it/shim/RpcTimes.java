package dev.katashim.it.shim;

import dev.katashim.it.bench.LatencyStats;
import dev.katashim.it.peers.TaskApiClient;
import dev.katashim.protocols.containerd.task.v2.StatsRequest;
import dev.katashim.protocols.containerd.task.v2.StatsResponse;
import dev.katashim.protocols.containerd.types.task.Status;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The wall times of State and Stats calls on one running container, as containerd makes them:
 * State is answered by the shim, Stats by the sandbox's agent.
 */
final class RpcTimes {
    /** Milliseconds between State calls: 200 a second. */
    private static final long STATE_PACE = 5;

    private final List<Long> state = new ArrayList<>();
    private final List<Long> stats = new CopyOnWriteArrayList<>();

    /**
     * Calls State in a loop and, beside it on a second thread, Stats in a loop, for {@code id}, for
     * {@code window}; both must answer for a running task. Stats goes through the guest and takes
     * much longer: on its own thread it does not thin out State's samples.
     */
    void measure(TaskApiClient task, String id, Duration window) throws Exception {
        long end = System.nanoTime() + window.toNanos();
        Future<?> statsLoop;
        try (ExecutorService beside = Executors.newVirtualThreadPerTaskExecutor()) {
            statsLoop = beside.submit(() -> {
                while (System.nanoTime() < end) {
                    long start = System.nanoTime();
                    StatsResponse answer = task.call("Stats", StatsRequest.newBuilder().setId(id).build(), StatsResponse.parser());
                    stats.add(System.nanoTime() - start);
                    assertThat(answer.hasStats()).isTrue();
                }
                return null;
            });
            while (System.nanoTime() < end) {
                long start = System.nanoTime();
                Status status = task.state(id).getStatus();
                state.add(System.nanoTime() - start);
                assertThat(status).isEqualTo(Status.RUNNING);
                Thread.sleep(STATE_PACE); // a busy client, not a load of its own
            }
        }
        statsLoop.get(); // its failure, if any
    }

    LatencyStats state() {
        return LatencyStats.of(state.stream().mapToLong(Long::longValue).toArray());
    }

    LatencyStats stats() {
        return LatencyStats.of(stats.stream().mapToLong(Long::longValue).toArray());
    }

    /** State's and Stats' medians and p99 here against those of the windows before and after, one line each. */
    String against(RpcTimes before, RpcTimes after) {
        return line("State", before.state(), state(), after.state()) + "\n" + line("Stats", before.stats(), stats(), after.stats());
    }

    private static String line(String rpc, LatencyStats before, LatencyStats now, LatencyStats after) {
        return String.format("  %s p50 %.0f us before, %.0f us now, %.0f us after (%.2fx the slower); p99 %.0f / %.0f / %.0f us; %d / %d / %d calls",
                rpc, before.p50Micros(), now.p50Micros(), after.p50Micros(),
                now.p50Micros() / Math.max(before.p50Micros(), after.p50Micros()),
                before.p99Micros(), now.p99Micros(), after.p99Micros(), before.samples(), now.samples(), after.samples());
    }

    /**
     * Asserts that State's and Stats' medians here are at most {@code factor} times the slower of
     * the windows before and after: the machine's own load drifts over a test, and an effect of
     * what ran in this window shows against both of its neighbours.
     */
    void assertMediansWithin(double factor, RpcTimes before, RpcTimes after) {
        assertMedianWithin("State", factor, before.state(), state(), after.state());
        assertMedianWithin("Stats", factor, before.stats(), stats(), after.stats());
    }

    private static void assertMedianWithin(String rpc, double factor, LatencyStats before, LatencyStats now, LatencyStats after) {
        double slower = Math.max(before.p50Micros(), after.p50Micros());
        assertThat(now.p50Micros()).as("%s' median, against %.0f us before and %.0f us after",
                rpc, before.p50Micros(), after.p50Micros()).isLessThanOrEqualTo(factor * slower);
    }
}
