package dev.katashim.agent.client;

import dev.katashim.agent.client.FakeAgent.Fault;
import dev.katashim.protocols.kata.agent.GetMetricsRequest;
import dev.katashim.protocols.kata.agent.HealthCheckResponse;
import dev.katashim.protocols.kata.agent.StatsContainerRequest;
import dev.katashim.protocols.kata.agent.WaitProcessRequest;
import dev.katashim.ttrpc.status.StatusCode;
import dev.katashim.ttrpc.status.TtrpcException;
import dev.katashim.ttrpc.transport.Endpoint;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The shim's agent client against a FAKE malicious agent ({@link FakeAgent}): the agent runs in the
 * guest and is untrusted. Each fault fails its call with a clear status, within the call's timeout
 * at most, and the client goes on serving the next call; the agent's answer never exceeds
 * ttrpc's 4 MiB frame in the shim's memory.
 */
class MaliciousAgentTest {
    /** The timeout of a non-blocking call here (the shim's is 60 s, upstream's). */
    private static final Duration CALL_TIMEOUT = Duration.ofSeconds(2);
    /** Generous: the machine may be busy with other suites; a fault must fail well before a hang would be noticed. */
    private static final Duration UNDER_LOAD_SLACK = Duration.ofSeconds(20);
    private static final AgentTimeouts TIMEOUTS = new AgentTimeouts(CALL_TIMEOUT, CALL_TIMEOUT, CALL_TIMEOUT);

    private Path dir;
    private FakeAgent agent;
    private AgentClient client;

    @BeforeEach
    void start() throws Exception {
        dir = Files.createTempDirectory(Path.of("/tmp"), "kma");
        agent = new FakeAgent(dir.resolve("agent.sock"));
        client = AgentClient.builder(new Endpoint.UnixPath(dir.resolve("agent.sock"))).timeouts(TIMEOUTS)
                .dialTimeout(UNDER_LOAD_SLACK).connect();
    }

    @AfterEach
    void stop() throws Exception {
        client.close();
        agent.close();
        Files.deleteIfExists(dir.resolve("agent.sock"));
        Files.delete(dir);
    }

    private TtrpcException failedCall() {
        TtrpcException[] failure = new TtrpcException[1];
        long begin = System.nanoTime();
        assertThatThrownBy(() -> client.getMetrics(GetMetricsRequest.getDefaultInstance()))
                .isInstanceOfSatisfying(TtrpcException.class, e -> failure[0] = e);
        assertThat(Duration.ofNanos(System.nanoTime() - begin)).as("failed within the call's timeout")
                .isLessThan(CALL_TIMEOUT.plus(UNDER_LOAD_SLACK));
        return failure[0];
    }

    /** What every test ends with: the next call is served (on the same connection, or a new one). */
    private void nextCallServed() throws Exception {
        assertThat(client.getMetrics(GetMetricsRequest.getDefaultInstance()).getMetrics()).isEmpty();
        assertThat(client.check().getStatus()).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
    }

    @Test
    void fourMebibytesOfGarbageInAResponseAreInternalAndTheConnectionGoesOn() throws Exception {
        agent.misbehave(Fault.GARBAGE_RESPONSE);
        TtrpcException e = failedCall();
        assertThat(e.code()).isEqualTo(StatusCode.INTERNAL);
        assertThat(e.getMessage()).contains("cannot decode the grpc.AgentService/GetMetrics response");
        nextCallServed();
        assertThat(agent.accepted.get()).as("the same connection").isEqualTo(1);
    }

    @Test
    void fourMebibytesOfRawGarbageCloseTheConnectionAndTheNextCallDialsAgain() throws Exception {
        agent.misbehave(Fault.RAW_GARBAGE);
        TtrpcException e = failedCall();
        assertThat(e.code()).isIn(StatusCode.UNAVAILABLE, StatusCode.RESOURCE_EXHAUSTED);
        nextCallServed();
        assertThat(agent.accepted.get()).as("a new connection").isEqualTo(2);
    }

    @Test
    void aFrameAnnouncingOneGibibyteIsNotReadTheConnectionIsClosedAndTheNextCallDialsAgain() throws Exception {
        agent.misbehave(Fault.OVERSIZED);
        TtrpcException e = failedCall();
        assertThat(e.code()).isEqualTo(StatusCode.RESOURCE_EXHAUSTED);
        assertThat(e.getMessage()).contains("response length " + FakeAgent.ANNOUNCED + " exceeds the maximum message size of " + FakeAgent.FOUR_MIB);
        org.awaitility.Awaitility.await().atMost(UNDER_LOAD_SLACK).until(() -> agent.oversizedBytesWritten.get() >= 0);
        assertThat(agent.oversizedBytesWritten.get()).as("the client hung up instead of reading (and discarding) 1 GiB")
                .isLessThan(FakeAgent.ANNOUNCED / 4);
        nextCallServed();
    }

    @Test
    void anAgentThatNeverAnswersFailsTheCallAtItsTimeoutAndOthersAreServedMeanwhile() throws Exception {
        agent.misbehave(Fault.SILENT);
        long begin = System.nanoTime();
        CompletableFuture<TtrpcException> silent = CompletableFuture.supplyAsync(this::failedCall);
        org.awaitility.Awaitility.await().atMost(UNDER_LOAD_SLACK).until(() -> agent.agentCalls.get() == 1);
        nextCallServed(); // while the silent call waits: calls are multiplexed, not queued behind it
        TtrpcException e = silent.get(CALL_TIMEOUT.plus(UNDER_LOAD_SLACK).toMillis(), TimeUnit.MILLISECONDS);
        assertThat(Duration.ofNanos(System.nanoTime() - begin)).isGreaterThanOrEqualTo(CALL_TIMEOUT);
        assertThat(e.code()).isEqualTo(StatusCode.DEADLINE_EXCEEDED);
        assertThat(e.getMessage()).isEqualTo("ttrpc: grpc.AgentService/GetMetrics timed out after 2000 ms");
        nextCallServed();
    }

    @Test
    void anAgentThatClosesMidCallFailsItAsUnavailableAndTheNextCallDialsAgain() throws Exception {
        agent.misbehave(Fault.CLOSE_MID_CALL);
        TtrpcException e = failedCall();
        assertThat(e.code()).isEqualTo(StatusCode.UNAVAILABLE);
        assertThat(e.getMessage()).isEqualTo("ttrpc: closed");
        nextCallServed();
        assertThat(agent.accepted.get()).isEqualTo(2);
    }

    @Test
    void aBlockingCallTheAgentNeverAnswersEndsWhenTheShimClosesTheClient() throws Exception {
        // WaitProcess has no timeout by design (a process may run for ever): the sandbox's teardown closes the client
        agent.misbehave(Fault.SILENT);
        CompletableFuture<Throwable> waiting = CompletableFuture.supplyAsync(() -> {
            try {
                client.waitProcess(WaitProcessRequest.newBuilder().setContainerId("c").setExecId("c").build());
                return null;
            } catch (Throwable t) {
                return t;
            }
        });
        org.awaitility.Awaitility.await().atMost(UNDER_LOAD_SLACK).until(() -> agent.agentCalls.get() == 1);
        assertThat(waiting).isNotDone();
        assertThat(client.statsContainer(StatsContainerRequest.newBuilder().setContainerId("c").build())).isNotNull();
        client.close();
        Throwable ended = waiting.get(UNDER_LOAD_SLACK.toMillis(), TimeUnit.MILLISECONDS);
        assertThat(ended).isInstanceOfSatisfying(TtrpcException.class, e -> assertThat(e.code()).isEqualTo(StatusCode.UNAVAILABLE));
        assertThatThrownBy(() -> client.check()).as("closed for good: no new connection")
                .isInstanceOfSatisfying(TtrpcException.class, e -> assertThat(e.code()).isEqualTo(StatusCode.UNAVAILABLE));
        assertThat(agent.accepted.get()).isEqualTo(1);
        client = AgentClient.builder(new Endpoint.UnixPath(dir.resolve("agent.sock"))).timeouts(TIMEOUTS).connect(); // for stop()
    }
}
