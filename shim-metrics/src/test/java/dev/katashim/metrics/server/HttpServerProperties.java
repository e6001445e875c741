package dev.katashim.metrics.server;

import dev.katashim.metrics.SandboxMetrics;
import dev.katashim.metrics.ShimMetrics;
import dev.katashim.ttrpc.testing.LeakWatch;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.ShrinkingMode;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The management socket's HTTP server, a real one on a unix socket, fed random connections: any
 * method, path, query, Accept, headers and body, pipelined, then maybe a request that ends the
 * connection or one it refuses. Every request is answered in order as the server's rules say, a
 * refusal is a 4xx naming the problem followed by the close, and a well-behaved client is served
 * after each connection. Nothing leaks.
 */
class HttpServerProperties {
    /** Generous: both cores may be busy with another suite. */
    static final Duration UNDER_LOAD_DEADLINE = Duration.ofSeconds(60);

    private static Path dir;
    private static Path socket;
    private static ManagementServer server;

    @BeforeContainer
    static void start() throws Exception {
        LeakWatch.start();
        dir = Files.createTempDirectory(Path.of("/tmp"), "ksm-fuzz");
        socket = dir.resolve(ManagementServer.SOCKET_NAME);
        server = ManagementServer.startOnSocket(socket, SandboxMetrics.builder(new ShimMetrics()).build(), () -> HttpRequests.AGENT_URL,
                ManagementServer.Options.DEFAULTS);
    }

    @AfterContainer
    static void stop() throws Exception {
        await().atMost(UNDER_LOAD_DEADLINE).until(() -> server.inFlight() == 0);
        server.close();
        Files.deleteIfExists(dir);
        assertThat(LeakWatch.leaks()).as("ByteBufs leaked by the HTTP server").isEmpty();
    }

    @Property(shrinking = ShrinkingMode.OFF)
    void pipelinedRequestsAreAnsweredInOrderAsTheRulesSay(@ForAll long seed) throws Exception {
        List<HttpRequests.Request> requests = HttpRequests.session(new Random(seed), 12);
        List<RawHttpConnection.Answer> answers = exchange(requests);
        String context = "requests: " + requests;
        boolean closes = !requests.isEmpty() && requests.getLast().closes();
        assertThat(answers).as("answers, then %s\n%s", closes ? "closed" : "open", context).hasSize(requests.size());
        for (int i = 0; i < requests.size(); i++) {
            HttpRequests.Request request = requests.get(i);
            RawHttpConnection.Answer answer = answers.get(i);
            assertThat(answer.status()).as("status of request %d, %s\n%s", i, request, context).isEqualTo(request.status());
            assertThat(answer.body()).as("body of request %d, %s", i, request).contains(request.bodyFragment());
            if (answer.status() == 405) {
                assertThat(answer.header("allow")).isEqualTo("GET");
            }
        }
        assertGoodClientServed();
    }

    /** Random bytes in place of a request: whatever comes back is a 4xx naming the problem; others are still served. */
    @Property(tries = 100, shrinking = ShrinkingMode.OFF)
    void garbageIsRefusedClearly(@ForAll long seed) throws Exception {
        Random random = new Random(seed);
        byte[] garbage = new byte[1 + random.nextInt(300)];
        random.nextBytes(garbage);
        ByteArrayOutputStream wire = new ByteArrayOutputStream();
        wire.writeBytes(garbage);
        wire.writeBytes("\r\n\r\n".getBytes());
        try (RawHttpConnection connection = new RawHttpConnection(socket)) {
            connection.write(wire.toByteArray());
            // look for a while at what comes back; the server may also wait for the rest of a request
            CompletableFuture<List<RawHttpConnection.Answer>> reading = CompletableFuture.supplyAsync(() -> {
                List<RawHttpConnection.Answer> answers = new ArrayList<>();
                try {
                    for (RawHttpConnection.Answer a; (a = connection.read(false)) != null; ) {
                        answers.add(a);
                    }
                } catch (java.io.IOException e) {
                    // closed by us below
                }
                return answers;
            }, command -> Thread.ofVirtual().start(command));
            List<RawHttpConnection.Answer> answers;
            try {
                answers = reading.get(2, TimeUnit.SECONDS);
            } catch (java.util.concurrent.TimeoutException stillOpen) {
                connection.close();
                answers = reading.get(UNDER_LOAD_DEADLINE.toSeconds(), TimeUnit.SECONDS);
            }
            for (RawHttpConnection.Answer answer : answers) {
                assertThat(answer.status()).as("answer to %s", java.util.HexFormat.of().formatHex(garbage)).isBetween(400, 499);
                assertThat(answer.body()).isNotBlank();
            }
        }
        assertGoodClientServed();
    }

    private static List<RawHttpConnection.Answer> exchange(List<HttpRequests.Request> requests) throws Exception {
        try (RawHttpConnection connection = new RawHttpConnection(socket)) {
            CompletableFuture<List<RawHttpConnection.Answer>> reading = CompletableFuture.supplyAsync(() -> {
                List<RawHttpConnection.Answer> answers = new ArrayList<>();
                try {
                    for (HttpRequests.Request request : requests) {
                        RawHttpConnection.Answer answer = connection.read(request.head());
                        if (answer == null) {
                            return answers;
                        }
                        answers.add(answer);
                    }
                    if (!requests.isEmpty() && requests.getLast().closes()) {
                        assertThat(connection.read(false)).as("nothing after the last answer: the connection closes").isNull();
                    }
                    return answers;
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }, command -> Thread.ofVirtual().start(command));
            for (HttpRequests.Request request : requests) {
                connection.write(request.bytes());
            }
            return reading.get(UNDER_LOAD_DEADLINE.toSeconds(), TimeUnit.SECONDS);
        }
    }

    static void assertGoodClientServed() throws Exception {
        assertGoodClientServed(socket);
    }

    static void assertGoodClientServed(Path socket) throws Exception {
        HttpClient.Response response = HttpClient.get(socket, "/agent-url", null, UNDER_LOAD_DEADLINE)
                .get(UNDER_LOAD_DEADLINE.toSeconds(), TimeUnit.SECONDS);
        assertThat(response.status()).isEqualTo(200);
        assertThat(response.body()).isEqualTo(HttpRequests.AGENT_URL);
    }
}
