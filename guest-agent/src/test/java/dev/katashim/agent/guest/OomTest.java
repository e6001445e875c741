package dev.katashim.agent.guest;

import dev.katashim.agent.guest.support.AgentFixture;
import dev.katashim.agent.guest.support.Specs;
import dev.katashim.protocols.kata.agent.GetOOMEventRequest;
import dev.katashim.protocols.kata.agent.LinuxMemory;
import dev.katashim.protocols.kata.agent.LinuxResources;
import dev.katashim.protocols.kata.agent.OOMEvent;
import dev.katashim.protocols.kata.agent.Spec;
import dev.katashim.ttrpc.client.CallOptions;
import dev.katashim.ttrpc.client.TtrpcClient;
import dev.katashim.ttrpc.status.StatusCode;
import dev.katashim.ttrpc.status.TtrpcException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * GetOOMEvent: blocks until a container's cgroup hits its memory limit and the kernel kills in it,
 * then names the container, once per kill: the init, an exec, or a child of either.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class OomTest {
    /** The shell keeps what the pipe gives it: 64 MiB in an 8 MiB cgroup. */
    private static final String EAT = "x=$(head -c 64m /dev/zero | tr '\\0' a)";
    private static AgentFixture agent;
    private static final List<TtrpcClient> waiting = new ArrayList<>();

    @BeforeAll
    static void startAgent() throws Exception {
        agent = AgentFixture.start();
    }

    @AfterEach
    void noLeftovers() throws Exception {
        waiting.forEach(TtrpcClient::close);
        waiting.clear();
        agent.cleanUp();
    }

    @AfterAll
    static void stopAgent() throws Exception {
        if (agent != null) {
            agent.close();
        }
    }

    /** 8 MiB of memory and no swap (OCI's swap is memory plus swap). */
    private static Spec limited(String... args) {
        Spec.Builder spec = Specs.busybox(agent.rootfs, args);
        return spec.setLinux(spec.getLinux().toBuilder().setResources(LinuxResources.newBuilder()
                .setMemory(LinuxMemory.newBuilder().setLimit(8L << 20).setSwap(8L << 20)))).build();
    }

    /**
     * A waiting GetOOMEvent on a connection of its own: closed after each test, so that a call a
     * failed test left waiting cannot take the next test's event (the agent drops a call whose
     * connection went away).
     */
    private static CompletableFuture<OOMEvent> nextOom() throws Exception {
        TtrpcClient own = agent.connect();
        waiting.add(own);
        return own.call(AgentFixture.SERVICE, "GetOOMEvent", GetOOMEventRequest.getDefaultInstance(), OOMEvent.parser(),
                CallOptions.DEFAULT);
    }

    /** No other OOM event within a while (a call with a deadline: the agent gives its wait up, taking nothing). */
    private static void assertNoMoreOom() throws InterruptedException {
        CompletableFuture<OOMEvent> more = agent.client.call(AgentFixture.SERVICE, "GetOOMEvent", GetOOMEventRequest.getDefaultInstance(),
                OOMEvent.parser(), CallOptions.timeout(Duration.ofSeconds(2)));
        ExecutionException e = catchThrowableOfType(ExecutionException.class, () -> more.get(10, TimeUnit.SECONDS));
        assertThat(e).as("a second OOM event").isNotNull();
        assertThat(((TtrpcException) e.getCause()).code()).isEqualTo(StatusCode.DEADLINE_EXCEEDED);
    }

    @Test
    void anInitKilledForMemoryIsReportedOnceAndExits137() throws Exception {
        CompletableFuture<OOMEvent> oom = nextOom();
        agent.create("hog", limited("sh", "-c", "sleep 0.5; " + EAT));
        Thread.sleep(200);
        assertThat(oom).as("GetOOMEvent waits for an OOM").isNotDone();
        agent.call("StartContainer", dev.katashim.protocols.kata.agent.StartContainerRequest.newBuilder().setContainerId("hog").build());

        assertThat(oom.get(30, TimeUnit.SECONDS).getContainerId()).isEqualTo("hog");
        assertThat(agent.await("hog", "")).isEqualTo(137);
        assertNoMoreOom();
    }

    @Test
    void anExecOrAChildKilledForMemoryIsTheContainersOom() throws Exception {
        agent.createAndStart("box", limited("sleep", "300"));

        CompletableFuture<OOMEvent> oom = nextOom();
        agent.exec("box", "hog", Specs.process("sh", "-c", EAT));
        assertThat(agent.await("box", "hog")).isEqualTo(137);
        assertThat(oom.get(30, TimeUnit.SECONDS).getContainerId()).isEqualTo("box");
        assertNoMoreOom();

        // The victim is a child of the exec (tail keeps a line that never ends): the exec goes on.
        oom = nextOom();
        agent.exec("box", "parent", Specs.process("sh", "-c", "tail /dev/zero; echo survived $?"));
        assertThat(agent.readAll("ReadStdout", "box", "parent")).isEqualTo("survived 137\n");
        assertThat(agent.await("box", "parent")).isZero();
        assertThat(oom.get(30, TimeUnit.SECONDS).getContainerId()).isEqualTo("box");
        assertNoMoreOom();

        assertThat(agent.runcContainers()).as("the container itself still runs").contains("box");
    }
}
