package dev.katashim.it.shim;

import dev.katashim.it.peers.TaskApiClient;
import dev.katashim.it.support.BusyboxRootfs;
import dev.katashim.it.support.CommandResult;
import dev.katashim.it.support.CtrEvents;
import dev.katashim.it.support.PrivateContainerd;
import dev.katashim.protocols.containerd.task.v2.PidsRequest;
import dev.katashim.protocols.containerd.task.v2.PidsResponse;
import dev.katashim.protocols.containerd.task.v2.StateRequest;
import dev.katashim.protocols.containerd.task.v2.StateResponse;
import dev.katashim.protocols.containerd.task.v2.StatsRequest;
import dev.katashim.protocols.containerd.task.v2.StatsResponse;
import dev.katashim.protocols.containerd.types.task.Status;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Many at once, in the no-VM sandbox through a private containerd: twenty {@code ctr run} started
 * together all succeed and leave nothing; on one shim, execs from several ctr processes and State,
 * Stats and Pids from several Task API clients interleave without a deadlock, each exec's events in
 * its own order. A call that does not return within its deadline fails the test with its name.
 */
class ConcurrencyTest {
    private static final String RUNTIME = KataShimEndToEndTest.RUNTIME;
    private static final int PARALLEL_RUNS = 20;
    /**
     * Twenty shims and their host agents start at once on two cores (forty JVMs): each run may
     * take minutes when the machine is busy, never forever.
     */
    private static final Duration CROWD_DEADLINE = Duration.ofMinutes(6);
    /** One exec or one Task API call on a loaded machine: generous, so that only a stuck one exceeds it. */
    private static final Duration CALL_DEADLINE = Duration.ofSeconds(90);
    /** The host agents of twenty sandboxes start together: 30 s (the other tests' dial timeout) was seen too short. */
    private static final int CROWD_AGENT_DIAL_TIMEOUT_SECONDS = 300;
    private static PrivateContainerd containerd;
    private static BusyboxRootfs rootfs;

    @BeforeAll
    static void start(@TempDir Path dir) {
        Path repo = Path.of("").toAbsolutePath().getParent();
        containerd = PrivateContainerd.builder().prependToPath(repo.resolve("bin"))
                .environment("KATA_CONF_FILE", KataConfigs.noVm(dir, CROWD_AGENT_DIAL_TIMEOUT_SECONDS).toString())
                .commandTimeout(CROWD_DEADLINE).start();
        rootfs = BusyboxRootfs.create(dir.resolve("rootfs"));
    }

    @AfterAll
    static void stop() {
        if (containerd != null) {
            containerd.close();
        }
    }

    @Test
    void twentyRunsAtOnceAllSucceedAndLeaveNothing() throws Exception {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < PARALLEL_RUNS; i++) {
            ids.add(containerd.uniqueId("crowd" + i));
        }
        List<Future<CommandResult>> runs = new ArrayList<>();
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (String id : ids) {
                runs.add(pool.submit(() -> containerd.ctr("run", "--rm", "--runtime", RUNTIME, "--rootfs", rootfs.path().toString(),
                        id, "/bin/sh", "-c", "echo " + id)));
            }
            List<CommandResult> results = new ArrayList<>();
            for (int i = 0; i < ids.size(); i++) {
                results.add(awaitCall("ctr run " + ids.get(i), runs.get(i), CROWD_DEADLINE));
            }
            // leftovers first: a run that failed must not leave anything either
            for (String id : ids) {
                SandboxLeftovers.assertNone(containerd, id);
            }
            for (int i = 0; i < ids.size(); i++) {
                assertThat(results.get(i).exitCode()).as("%s\n%s", results.get(i), containerd.log()).isZero();
                assertThat(results.get(i).stdout()).isEqualTo(ids.get(i) + "\n");
            }
        }
    }

    @Test
    void execsAndQueriesOnOneShimInterleaveWithoutADeadlock() throws Exception {
        String id = containerd.uniqueId("busy");
        CommandResult run = containerd.ctr("run", "-d", "--runtime", RUNTIME, "--rootfs", rootfs.path().toString(), id,
                "/bin/sleep", "600");
        assertThat(run.exitCode()).as(run.toString()).isZero();
        int execWorkers = 3;
        int execsEach = 4;
        try (CtrEvents events = CtrEvents.start(containerd, CALL_DEADLINE);
             ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            AtomicBoolean execsDone = new AtomicBoolean();
            List<Future<Integer>> queriers = new ArrayList<>();
            for (int q = 0; q < 3; q++) {
                queriers.add(pool.submit(() -> queryUntil(id, execsDone)));
            }
            List<Future<List<String>>> execers = new ArrayList<>();
            for (int w = 0; w < execWorkers; w++) {
                int worker = w;
                execers.add(pool.submit(() -> execs(id, worker, execsEach)));
            }
            List<String> execIds = new ArrayList<>();
            for (int w = 0; w < execWorkers; w++) {
                execIds.addAll(awaitCall("exec worker " + w, execers.get(w), CALL_DEADLINE.multipliedBy(execsEach)));
            }
            execsDone.set(true);
            for (int q = 0; q < queriers.size(); q++) {
                assertThat(awaitCall("query worker " + q, queriers.get(q), CALL_DEADLINE)).as("queries answered").isPositive();
            }
            for (String exec : execIds) {
                CtrEvents.Event added = events.await("/tasks/exec-added", e -> isOf(e, id, exec), CALL_DEADLINE);
                CtrEvents.Event started = events.await("/tasks/exec-started", e -> isOf(e, id, exec), CALL_DEADLINE);
                CtrEvents.Event exited = events.await("/tasks/exit", e -> e.text("container_id").equals(id) && e.text("id").equals(exec),
                        CALL_DEADLINE);
                assertThat(events.all()).as("events of exec %s in order", exec).containsSubsequence(added, started, exited);
            }
        } finally {
            containerd.ctr("task", "kill", "-s", "KILL", id);
            containerd.ctr("task", "rm", "-f", id);
            containerd.ctr("c", "rm", id);
        }
        SandboxLeftovers.assertNone(containerd, id);
    }

    /** {@code count} execs one after the other, each printing its name and exiting with its own status. */
    private static List<String> execs(String id, int worker, int count) {
        List<String> execIds = new ArrayList<>();
        for (int n = 0; n < count; n++) {
            String exec = "w" + worker + "-" + n;
            int status = worker * count + n;
            CommandResult result = containerd.ctr("task", "exec", "--exec-id", exec, id,
                    "/bin/sh", "-c", "echo " + exec + "; exit " + status);
            assertThat(result.stdout()).as(result.toString()).isEqualTo(exec + "\n");
            // ctr 1.6 exits with the process's status
            assertThat(result.exitCode()).as(result.toString()).isEqualTo(status);
            execIds.add(exec);
        }
        return execIds;
    }

    /** State, Stats and Pids of the running container in a loop, as a monitoring client would, until told to stop. */
    private static int queryUntil(String id, AtomicBoolean stop) throws Exception {
        int answered = 0;
        try (TaskApiClient shim = TaskApiClient.connect(containerd.shimSocket(id), containerd.namespace(), 2, CALL_DEADLINE)) {
            while (!stop.get() || answered == 0) {
                StateResponse state = named("State", () -> shim.call("State", StateRequest.newBuilder().setId(id).build(), StateResponse.parser()));
                assertThat(state.getStatus()).as("State of %s", id).isEqualTo(Status.RUNNING);
                StatsResponse stats = named("Stats", () -> shim.call("Stats", StatsRequest.newBuilder().setId(id).build(), StatsResponse.parser()));
                assertThat(stats.hasStats()).as("Stats of %s", id).isTrue();
                PidsResponse pids = named("Pids", () -> shim.call("Pids", PidsRequest.newBuilder().setId(id).build(), PidsResponse.parser()));
                assertThat(pids.getProcessesCount()).as("Pids of %s", id).isPositive();
                answered++;
            }
        }
        return answered;
    }

    /** A Task API call; the client gives up after {@link #CALL_DEADLINE}, and the failure names the call. */
    private static <T> T named(String call, Callable<T> rpc) {
        try {
            return rpc.call();
        } catch (Exception e) {
            throw new AssertionError(call + " failed or did not return within " + CALL_DEADLINE.toSeconds() + " s: " + e, e);
        }
    }

    private static <T> T awaitCall(String what, Future<T> call, Duration deadline) throws Exception {
        try {
            return call.get(deadline.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            call.cancel(true);
            throw new AssertionError(what + " did not return within " + deadline.toSeconds() + " s: stuck\n" + containerd.log(), e);
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof AssertionError failed) {
                throw failed;
            }
            throw new AssertionError(what + " failed: " + e.getCause(), e.getCause());
        }
    }

    private static boolean isOf(CtrEvents.Event event, String container, String exec) {
        return event.text("container_id").equals(container) && event.text("exec_id").equals(exec);
    }
}
