package dev.katashim.metrics.server;

import dev.katashim.metrics.SandboxMetrics;
import dev.katashim.metrics.ShimMetrics;
import dev.katashim.ttrpc.testing.LeakWatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static dev.katashim.metrics.server.HttpServerProperties.UNDER_LOAD_DEADLINE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * One client pipelining many requests on one connection (issue 14's "10,000 requests on one
 * connection"): all are answered, in order, while another client is served; nothing leaks.
 */
class PipelinedRequestsTest {
    private static final int REQUESTS = 10_000;

    private Path dir;
    private Path socket;
    private ManagementServer server;

    @BeforeEach
    void start() throws Exception {
        LeakWatch.start();
        dir = Files.createTempDirectory(Path.of("/tmp"), "ksm-pipe");
        socket = dir.resolve(ManagementServer.SOCKET_NAME);
        server = ManagementServer.startOnSocket(socket, SandboxMetrics.builder(new ShimMetrics()).build(), () -> HttpRequests.AGENT_URL,
                ManagementServer.Options.DEFAULTS);
    }

    @AfterEach
    void stop() throws Exception {
        await().atMost(UNDER_LOAD_DEADLINE).until(() -> server.inFlight() == 0);
        server.close();
        Files.deleteIfExists(dir);
        assertThat(LeakWatch.leaks()).as("ByteBufs leaked").isEmpty();
    }

    /**
     * Found by this test: past 128 requests waiting, Netty's codec closed the connection without a
     * word (maxPipelineDepth). Pipelining is bounded by the connection handler now.
     */
    @Test
    void tenThousandRequestsOnOneConnectionAreAllAnsweredInOrderWhileOthersAreServed() throws Exception {
        ByteArrayOutputStream wire = new ByteArrayOutputStream();
        for (int i = 0; i < REQUESTS; i++) {
            // each path names its request, so the answer's body proves the order; a scrape now and then
            String path = i % 1000 == 999 ? "/metrics" : "/nothing-" + i;
            wire.writeBytes(("GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        }
        try (RawHttpConnection connection = new RawHttpConnection(socket)) {
            CompletableFuture<List<RawHttpConnection.Answer>> reading = CompletableFuture.supplyAsync(() -> {
                List<RawHttpConnection.Answer> answers = new ArrayList<>();
                try {
                    for (int i = 0; i < REQUESTS; i++) {
                        answers.add(connection.read(false));
                    }
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
                return answers;
            }, command -> Thread.ofVirtual().start(command));
            CompletableFuture<Void> writing = CompletableFuture.runAsync(() -> {
                try {
                    connection.write(wire.toByteArray());
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }, command -> Thread.ofVirtual().start(command));

            // meanwhile another client is served
            for (int i = 0; i < 20; i++) {
                HttpServerProperties.assertGoodClientServed(socket);
            }
            List<RawHttpConnection.Answer> answers = reading.get(2 * UNDER_LOAD_DEADLINE.toSeconds(), TimeUnit.SECONDS);
            assertThat(answers).as("answers before the server closed the connection").doesNotContainNull();
            writing.get(UNDER_LOAD_DEADLINE.toSeconds(), TimeUnit.SECONDS);
            for (int i = 0; i < REQUESTS; i++) {
                RawHttpConnection.Answer answer = answers.get(i);
                assertThat(answer).as("answer %d", i).isNotNull();
                if (i % 1000 == 999) {
                    assertThat(answer.status()).as("answer %d", i).isEqualTo(200);
                    assertThat(answer.body()).contains("kata_shim");
                } else {
                    assertThat(answer.status()).as("answer %d", i).isEqualTo(404);
                    assertThat(answer.body()).as("answer %d", i).isEqualTo("no such resource: /nothing-" + i + "\n");
                }
            }
        }
        HttpServerProperties.assertGoodClientServed(socket);
    }

    /**
     * Found by this test: Netty's aggregator answered 413 as soon as it read the header, before the
     * answer to the request pipelined ahead of it. The refusal now takes its turn, then the connection closes.
     */
    @Test
    void aBodyOverTheLimitIsRefusedInItsTurn() throws Exception {
        ByteArrayOutputStream wire = new ByteArrayOutputStream();
        wire.writeBytes("GET /metrics HTTP/1.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        int tooLong = 70_000;
        wire.writeBytes(("POST /nothing-1 HTTP/1.1\r\nContent-Length: " + tooLong + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        wire.writeBytes(new byte[tooLong]);
        wire.writeBytes("GET /nothing-2 HTTP/1.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        try (RawHttpConnection connection = new RawHttpConnection(socket)) {
            connection.write(wire.toByteArray());
            RawHttpConnection.Answer first = connection.read(false);
            assertThat(first.status()).isEqualTo(200);
            assertThat(first.body()).contains("kata_shim");
            RawHttpConnection.Answer refused = connection.read(false);
            assertThat(refused.status()).isEqualTo(413);
            assertThat(refused.body()).contains("request body too large (limit " + HttpService.MAX_BODY + " bytes)");
            assertThat(connection.read(false)).as("the connection closes after the refusal").isNull();
        }
        HttpServerProperties.assertGoodClientServed(socket);
    }
}
