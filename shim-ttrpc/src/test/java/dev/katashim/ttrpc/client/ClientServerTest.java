package dev.katashim.ttrpc.client;

import com.google.protobuf.Empty;
import com.google.protobuf.Int32Value;
import com.google.protobuf.Int64Value;
import com.google.protobuf.StringValue;
import dev.katashim.ttrpc.observe.CompletedCall;
import dev.katashim.ttrpc.server.ServiceDefinition;
import dev.katashim.ttrpc.server.TtrpcServer;
import dev.katashim.ttrpc.status.StatusCode;
import dev.katashim.ttrpc.status.TtrpcException;
import dev.katashim.ttrpc.testing.EchoService;
import dev.katashim.ttrpc.testing.RecordingObserver;
import dev.katashim.ttrpc.testing.TempSockets;
import dev.katashim.ttrpc.transport.Endpoint;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static dev.katashim.ttrpc.testing.EchoService.NAME;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** Our client against our server over a unix socket: the unary call paths and every status. */
class ClientServerTest {
    /** How long to wait for what happens on another thread: generous, for a machine whose cores are busy. */
    private static final Duration UNDER_LOAD_DEADLINE = Duration.ofSeconds(30);

    private final TempSockets sockets = new TempSockets();
    private final EchoService echo = new EchoService();
    private final RecordingObserver serverCalls = new RecordingObserver();
    private final RecordingObserver clientCalls = new RecordingObserver();
    private TtrpcServer server;
    private TtrpcClient client;
    private Endpoint endpoint;

    @BeforeEach
    void start() throws Exception {
        endpoint = new Endpoint.UnixPath(sockets.path("echo.sock"));
        server = TtrpcServer.builder().service(echo.definition()).observer(serverCalls).build().listen(endpoint);
        client = TtrpcClient.builder(endpoint).observer(clientCalls).connect();
    }

    @AfterEach
    void stop() throws Exception {
        client.close();
        server.close();
        sockets.close();
    }

    private StringValue echo(String text) throws InterruptedException {
        return client.blockingCall(NAME, "Echo", StringValue.of(text), StringValue.parser(), CallOptions.DEFAULT);
    }

    @Test
    void unaryCallRoundTrips() throws Exception {
        assertThat(echo("hello").getValue()).isEqualTo("hello");
        assertThat(echo("").getValue()).isEmpty();
        String big = "x".repeat(3 << 20);
        assertThat(echo(big).getValue()).hasSize(big.length());
    }

    @Test
    void thousandsOfConcurrentCallsOnOneConnection() throws Exception {
        int calls = 5000;
        List<CompletableFuture<StringValue>> futures = new ArrayList<>(calls);
        for (int i = 0; i < calls; i++) {
            futures.add(client.call(NAME, "Echo", StringValue.of("m" + i), StringValue.parser(), CallOptions.DEFAULT));
        }
        for (int i = 0; i < calls; i++) {
            assertThat(futures.get(i).get(30, TimeUnit.SECONDS).getValue()).isEqualTo("m" + i);
        }
        assertThat(client.pendingCalls()).isZero();
    }

    @Test
    void manyCallsReallyAreInFlightAtOnce() throws Exception {
        int calls = 1200;
        List<CompletableFuture<Empty>> futures = new ArrayList<>(calls);
        for (int i = 0; i < calls; i++) {
            futures.add(client.call(NAME, "Sleep", Int64Value.of(1500), Empty.parser(), CallOptions.DEFAULT));
        }
        await().atMost(Duration.ofSeconds(20)).until(() -> server.inFlightCalls() >= calls);
        assertThat(client.pendingCalls()).isEqualTo(calls);
        CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
    }

    @Test
    void metadataReachesTheHandler() throws Exception {
        CallOptions options = CallOptions.DEFAULT
                .withMetadata("containerd-namespace-ttrpc", "k8s.io")
                .withMetadata("trace", "a")
                .withMetadata("trace", "b");
        StringValue seen = client.blockingCall(NAME, "Metadata", Empty.getDefaultInstance(), StringValue.parser(), options);
        assertThat(seen.getValue()).isEqualTo("{containerd-namespace-ttrpc=[k8s.io], trace=[a, b]}");
    }

    @Test
    void timeoutIsSentToTheServerAsTimeoutNano() throws Exception {
        Int64Value left = client.blockingCall(NAME, "Deadline", Empty.getDefaultInstance(), Int64Value.parser(),
                CallOptions.timeout(Duration.ofSeconds(10)));
        assertThat(left.getValue()).isBetween(TimeUnit.SECONDS.toNanos(5), TimeUnit.SECONDS.toNanos(10));
        Int64Value none = client.blockingCall(NAME, "Deadline", Empty.getDefaultInstance(), Int64Value.parser(), CallOptions.DEFAULT);
        assertThat(none.getValue()).isEqualTo(-1);
    }

    @Test
    void deadlineExceededLocallyAndTheServerInterruptsTheHandler() throws Exception {
        long start = System.nanoTime();
        assertThatThrownBy(() -> client.blockingCall(NAME, "Sleep", Int64Value.of(30_000), Empty.parser(),
                CallOptions.timeout(Duration.ofMillis(200))))
                .isInstanceOfSatisfying(TtrpcException.class, e -> {
                    assertThat(e.code()).isEqualTo(StatusCode.DEADLINE_EXCEEDED);
                    assertThat(e.getMessage()).contains("Sleep");
                });
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
        await().atMost(Duration.ofSeconds(5)).until(() -> echo.interrupted.get() == 1);
        await().atMost(Duration.ofSeconds(5)).until(() -> server.inFlightCalls() == 0);
        assertThat(serverCalls.callsOf("Sleep")).extracting(CompletedCall::status).containsExactly(StatusCode.DEADLINE_EXCEEDED);
        assertThat(echo("still serving").getValue()).isEqualTo("still serving");
    }

    @Test
    void unknownServiceAndMethodAreUnimplemented() {
        assertThatThrownBy(() -> client.blockingCall("no.such.Service", "Echo", StringValue.of("x"), StringValue.parser(), CallOptions.DEFAULT))
                .isInstanceOfSatisfying(TtrpcException.class, e -> {
                    assertThat(e.code()).isEqualTo(StatusCode.UNIMPLEMENTED);
                    assertThat(e.getMessage()).contains("no.such.Service");
                });
        assertThatThrownBy(() -> client.blockingCall(NAME, "Nope", StringValue.of("x"), StringValue.parser(), CallOptions.DEFAULT))
                .isInstanceOfSatisfying(TtrpcException.class, e -> {
                    assertThat(e.code()).isEqualTo(StatusCode.UNIMPLEMENTED);
                    assertThat(e.getMessage()).contains("Nope").contains(NAME);
                });
    }

    @Test
    void undecodablePayloadIsInvalidArgument() {
        // field 1 announced as a 10-byte string, but only 1 byte follows
        assertThatThrownBy(() -> client.blockingCall(NAME, "Echo",
                new RawMessage(new byte[]{0x0a, 0x0a, 'x'}), StringValue.parser(), CallOptions.DEFAULT))
                .isInstanceOfSatisfying(TtrpcException.class, e -> {
                    assertThat(e.code()).isEqualTo(StatusCode.INVALID_ARGUMENT);
                    assertThat(e.getMessage()).contains("cannot decode").contains("Echo");
                });
    }

    @ParameterizedTest
    @EnumSource(value = StatusCode.class, names = "OK", mode = EnumSource.Mode.EXCLUDE)
    void everyStatusCodeAHandlerThrowsReachesTheCaller(StatusCode code) {
        assertThatThrownBy(() -> client.blockingCall(NAME, "Fail", Int32Value.of(code.number()), Empty.parser(), CallOptions.DEFAULT))
                .isInstanceOfSatisfying(TtrpcException.class, e -> {
                    assertThat(e.code()).isEqualTo(code);
                    assertThat(e.getMessage()).isEqualTo("failed as asked");
                });
    }

    @Test
    void aHandlerBugIsUnknownWithItsMessage() {
        assertThatThrownBy(() -> client.blockingCall(NAME, "Fail", Int32Value.of(-1), Empty.parser(), CallOptions.DEFAULT))
                .isInstanceOfSatisfying(TtrpcException.class, e -> {
                    assertThat(e.code()).isEqualTo(StatusCode.UNKNOWN);
                    assertThat(e.getMessage()).contains("handler bug -1");
                });
    }

    @Test
    void bothInterceptorsSeeEveryCallWithItsStatus() throws Exception {
        echo("a");
        assertThatThrownBy(() -> client.blockingCall(NAME, "Fail", Int32Value.of(5), Empty.parser(), CallOptions.DEFAULT));
        assertThatThrownBy(() -> client.blockingCall(NAME, "Missing", Empty.getDefaultInstance(), Empty.parser(), CallOptions.DEFAULT));
        await().atMost(Duration.ofSeconds(5)).until(() -> serverCalls.calls().size() == 3);
        for (RecordingObserver observer : List.of(serverCalls, clientCalls)) {
            assertThat(observer.calls()).extracting(CompletedCall::service, CompletedCall::method, CompletedCall::status)
                    .containsExactlyInAnyOrder(
                            org.assertj.core.groups.Tuple.tuple(NAME, "Echo", StatusCode.OK),
                            org.assertj.core.groups.Tuple.tuple(NAME, "Fail", StatusCode.NOT_FOUND),
                            org.assertj.core.groups.Tuple.tuple(NAME, "Missing", StatusCode.UNIMPLEMENTED));
            assertThat(observer.calls()).allSatisfy(c -> assertThat(c.durationNanos()).isPositive());
        }
    }

    @Test
    void nonBlockingMethodsRunOnTheEventLoopAndTheOthersOnVirtualThreads() throws Exception {
        assertThat(client.blockingCall(NAME, "Where", Empty.getDefaultInstance(), StringValue.parser(), CallOptions.DEFAULT).getValue())
                .isEqualTo("virtual");
        String loop = client.blockingCall(NAME, "WhereNonBlocking", Empty.getDefaultInstance(), StringValue.parser(), CallOptions.DEFAULT).getValue();
        assertThat(loop).isNotEqualTo("virtual").isNotEqualTo(Thread.currentThread().getName());
        // its failure is answered and observed as any other's; the connection serves on
        assertThatThrownBy(() -> client.blockingCall(NAME, "FailNonBlocking", Int32Value.of(StatusCode.NOT_FOUND.number()), Empty.parser(), CallOptions.DEFAULT))
                .isInstanceOfSatisfying(TtrpcException.class, e -> assertThat(e.getMessage()).contains("failed as asked, on the event loop"));
        await().atMost(Duration.ofSeconds(5)).until(() -> serverCalls.calls().stream().anyMatch(c -> c.method().equals("FailNonBlocking")
                && c.status() == StatusCode.NOT_FOUND));
        assertThat(echo("still serving").getValue()).isEqualTo("still serving");
    }

    @Test
    void requestAboveFourMebibytesFailsLocally() {
        assertThatThrownBy(() -> echo("y".repeat((4 << 20) + 1)))
                .isInstanceOfSatisfying(TtrpcException.class, e -> assertThat(e.code()).isEqualTo(StatusCode.RESOURCE_EXHAUSTED));
    }

    @Test
    void gracefulShutdownFinishesInFlightCallsAndRefusesNewConnections() throws Exception {
        CompletableFuture<Empty> slow = client.call(NAME, "Sleep", Int64Value.of(700), Empty.parser(), CallOptions.DEFAULT);
        assertThat(echo.sleeping.await(5, TimeUnit.SECONDS)).isTrue();
        assertThat(server.shutdown(Duration.ofSeconds(10))).isTrue();
        // shutdown returns once the answer is sent; the client's event loop may not have read it yet
        assertThat(slow).succeedsWithin(UNDER_LOAD_DEADLINE).isEqualTo(Empty.getDefaultInstance());
        assertThatThrownBy(() -> TtrpcClient.connect(endpoint)).hasMessageContaining("cannot connect");
        await().atMost(Duration.ofSeconds(5)).until(() -> !client.isOpen());
        assertThatThrownBy(() -> echo("late"))
                .isInstanceOfSatisfying(TtrpcException.class, e -> assertThat(e.code()).isEqualTo(StatusCode.UNAVAILABLE));
    }

    @Test
    void gracefulShutdownDeliversAnAnswerLargerThanTheSocketBuffer() throws Exception {
        Endpoint bigEndpoint = new Endpoint.UnixPath(sockets.path("big.sock"));
        String big = "x".repeat(3 << 20);
        CountDownLatch answering = new CountDownLatch(1);
        TtrpcServer bigServer = TtrpcServer.builder().service(ServiceDefinition.builder(NAME)
                .unary("Big", Empty.parser(), (request, ctx) -> {
                    answering.countDown();
                    Thread.sleep(300); // the shutdown below starts while this call is in flight
                    return StringValue.of(big);
                }).build()).build().listen(bigEndpoint);
        try (TtrpcClient bigClient = TtrpcClient.connect(bigEndpoint)) {
            CompletableFuture<StringValue> answer = bigClient.call(NAME, "Big", Empty.getDefaultInstance(), StringValue.parser(), CallOptions.DEFAULT);
            assertThat(answering.await(UNDER_LOAD_DEADLINE.toSeconds(), TimeUnit.SECONDS)).isTrue();
            assertThat(bigServer.shutdown(Duration.ofSeconds(10))).isTrue();
            // before the fix, the connection was closed with most of the answer still in the outbound buffer
            assertThat(answer).succeedsWithin(UNDER_LOAD_DEADLINE).extracting(StringValue::getValue).isEqualTo(big);
        } finally {
            bigServer.close();
        }
    }

    @Test
    void aClosedServerFailsPendingCallsAsUnavailable() throws Exception {
        CompletableFuture<Empty> pending = client.call(NAME, "Sleep", Int64Value.of(10_000), Empty.parser(), CallOptions.DEFAULT);
        assertThat(echo.sleeping.await(5, TimeUnit.SECONDS)).isTrue();
        server.close();
        assertThatThrownBy(() -> pending.get(5, TimeUnit.SECONDS)).cause()
                .isInstanceOfSatisfying(TtrpcException.class, e -> {
                    assertThat(e.code()).isEqualTo(StatusCode.UNAVAILABLE);
                    assertThat(e.getMessage()).contains("closed");
                });
    }
}
