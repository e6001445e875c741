package dev.katashim.ttrpc.server;

import com.google.protobuf.StringValue;
import dev.katashim.protocols.ttrpc.Request;
import dev.katashim.protocols.ttrpc.Response;
import dev.katashim.ttrpc.client.CallOptions;
import dev.katashim.ttrpc.client.TtrpcClient;
import dev.katashim.ttrpc.status.StatusCode;
import dev.katashim.ttrpc.testing.EchoService;
import dev.katashim.ttrpc.testing.TempSockets;
import dev.katashim.ttrpc.transport.Endpoint;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.DataInputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static dev.katashim.ttrpc.testing.EchoService.NAME;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Misbehaving peers, written byte by byte on a raw socket. Each gets a clear status or a closed
 * connection, while a well-behaved client on the same server keeps being served, and nothing leaks.
 */
class BadInputTest {
    private final TempSockets sockets = new TempSockets();
    private TtrpcServer server;
    private TtrpcClient goodClient;
    private Path socket;

    @BeforeEach
    void start() throws Exception {
        socket = sockets.path("bad.sock");
        server = TtrpcServer.builder().service(new EchoService().definition()).build().listen(new Endpoint.UnixPath(socket));
        goodClient = TtrpcClient.connect(new Endpoint.UnixPath(socket));
        assertGoodClientServed();
    }

    @AfterEach
    void stop() throws Exception {
        assertGoodClientServed();
        goodClient.close();
        server.close();
        sockets.close();
    }

    private void assertGoodClientServed() throws InterruptedException {
        assertThat(goodClient.blockingCall(NAME, "Echo", StringValue.of("ok"), StringValue.parser(),
                CallOptions.timeout(Duration.ofSeconds(5))).getValue()).isEqualTo("ok");
    }

    private SocketChannel raw() throws IOException {
        SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
        channel.connect(UnixDomainSocketAddress.of(socket));
        return channel;
    }

    private static void send(SocketChannel channel, int length, int streamId, int type, int flags, byte[] data) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(10 + data.length);
        buffer.putInt(length).putInt(streamId).put((byte) type).put((byte) flags).put(data).flip();
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
    }

    private static byte[] request(String service, String method, byte[] payload) {
        return Request.newBuilder().setService(service).setMethod(method)
                .setPayload(com.google.protobuf.ByteString.copyFrom(payload)).build().toByteArray();
    }

    /** Reads one frame; returns its Response, or null when the server closed the connection. */
    private static Response readResponse(SocketChannel channel, int expectedStream) throws IOException {
        DataInputStream in = new DataInputStream(Channels.newInputStream(channel));
        try {
            int length = in.readInt();
            int stream = in.readInt();
            int type = in.readUnsignedByte();
            in.readUnsignedByte();
            byte[] data = in.readNBytes(length);
            assertThat(stream).isEqualTo(expectedStream);
            assertThat(type).isEqualTo(2);
            return Response.parseFrom(data);
        } catch (java.io.EOFException closed) {
            return null;
        }
    }

    @Test
    void frameAnnouncingMoreThanFourMebibytesIsResourceExhausted() throws Exception {
        try (SocketChannel bad = raw()) {
            int announced = (4 << 20) + 1;
            send(bad, announced, 1, 1, 0, new byte[0]);
            Response response = readResponse(bad, 1);
            assertThat(response.getStatus().getCode()).isEqualTo(StatusCode.RESOURCE_EXHAUSTED.number());
            assertThat(response.getStatus().getMessage()).contains(String.valueOf(announced));
            assertGoodClientServed();
        }
    }

    @Test
    void truncatedFrameThenCloseLeavesTheServerServing() throws Exception {
        try (SocketChannel bad = raw()) {
            byte[] data = request(NAME, "Echo", StringValue.of("x").toByteArray());
            send(bad, data.length + 100, 1, 1, 0, data);
        }
        assertGoodClientServed();
    }

    @Test
    void garbageRequestEnvelopeIsInvalidArgument() throws Exception {
        try (SocketChannel bad = raw()) {
            send(bad, 5, 1, 1, 0, new byte[]{(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff});
            Response response = readResponse(bad, 1);
            assertThat(response.getStatus().getCode()).isEqualTo(StatusCode.INVALID_ARGUMENT.number());
            assertThat(response.getStatus().getMessage()).contains("cannot decode the request");
        }
    }

    @Test
    void garbagePayloadIsInvalidArgument() throws Exception {
        try (SocketChannel bad = raw()) {
            byte[] data = request(NAME, "Echo", new byte[]{0x0a, 0x7f, 1});
            send(bad, data.length, 1, 1, 0, data);
            Response response = readResponse(bad, 1);
            assertThat(response.getStatus().getCode()).isEqualTo(StatusCode.INVALID_ARGUMENT.number());
        }
    }

    @Test
    void unknownServiceAndMethodOnTheRawWire() throws Exception {
        try (SocketChannel bad = raw()) {
            byte[] data = request("x.Y", "Z", new byte[0]);
            send(bad, data.length, 1, 1, 0, data);
            assertThat(readResponse(bad, 1).getStatus().getCode()).isEqualTo(StatusCode.UNIMPLEMENTED.number());
            data = request(NAME, "Z", new byte[0]);
            send(bad, data.length, 3, 1, 0, data);
            assertThat(readResponse(bad, 3).getStatus().getCode()).isEqualTo(StatusCode.UNIMPLEMENTED.number());
        }
    }

    @Test
    void evenOrInFlightStreamIdsAreRejectedOutOfOrderOnesServed() throws Exception {
        try (SocketChannel bad = raw()) {
            byte[] echo = request(NAME, "Echo", StringValue.of("a").toByteArray());
            send(bad, echo.length, 2, 1, 0, echo);
            Response even = readResponse(bad, 2);
            assertThat(even.getStatus().getCode()).isEqualTo(StatusCode.INVALID_ARGUMENT.number());
            assertThat(even.getStatus().getMessage()).contains("odd");
            // a Go client's concurrent calls may reach the socket out of order: 7 before 5 is fine
            send(bad, echo.length, 7, 1, 0, echo);
            assertThat(readResponse(bad, 7).getStatus().getCode()).isZero();
            send(bad, echo.length, 5, 1, 0, echo);
            assertThat(readResponse(bad, 5).getStatus().getCode()).isZero();
            // but a stream still in flight cannot be opened twice
            byte[] sleep = request(NAME, "Sleep", com.google.protobuf.Int64Value.of(500).toByteArray());
            send(bad, sleep.length, 9, 1, 0, sleep);
            send(bad, sleep.length, 9, 1, 0, sleep);
            Response reused = readResponse(bad, 9);
            assertThat(reused.getStatus().getMessage()).contains("already in use");
            assertThat(readResponse(bad, 9).getStatus().getCode()).isZero();
        }
    }

    @Test
    void responseFrameSentToTheServerClosesThatConnectionOnly() throws Exception {
        try (SocketChannel bad = raw()) {
            byte[] data = Response.getDefaultInstance().toByteArray();
            send(bad, data.length, 1, 2, 0, data);
            assertThat(readResponse(bad, 1)).isNull();
            assertGoodClientServed();
        }
    }

    @Test
    void unknownFrameTypeClosesThatConnectionOnly() throws Exception {
        try (SocketChannel bad = raw()) {
            send(bad, 0, 1, 0x7f, 0, new byte[0]);
            assertThat(readResponse(bad, 1)).isNull();
        }
    }

    @Test
    void streamDataOnAUnaryMethodIsAnsweredNotHung() throws Exception {
        try (SocketChannel bad = raw()) {
            byte[] data = request(NAME, "Sleep", com.google.protobuf.Int64Value.of(5000).toByteArray());
            send(bad, data.length, 1, 1, 0x02, data);
            send(bad, 1, 1, 3, 0x01, new byte[]{1});
            Response response = readResponse(bad, 1);
            assertThat(response.getStatus().getCode()).isEqualTo(StatusCode.UNIMPLEMENTED.number());
            assertThat(response.getStatus().getMessage()).contains("streamed data");
        }
    }

    @Test
    void clientThatSendsAndNeverReadsIsThrottledNotBuffered() throws Exception {
        byte[] big = StringValue.of("z".repeat(256 * 1024)).toByteArray();
        try (SocketChannel bad = raw()) {
            bad.configureBlocking(false);
            int stream = 1;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            ByteBuffer pendingWrite = null;
            int stalled = 0;
            // keep sending echo requests with 256 KiB responses without ever reading
            while (System.nanoTime() < deadline && stalled < 50) {
                if (pendingWrite == null || !pendingWrite.hasRemaining()) {
                    byte[] data = request(NAME, "Echo", big);
                    pendingWrite = ByteBuffer.allocate(10 + data.length);
                    pendingWrite.putInt(data.length).putInt(stream).put((byte) 1).put((byte) 0).put(data).flip();
                    stream += 2;
                }
                if (bad.write(pendingWrite) == 0) {
                    stalled++;
                    Thread.sleep(20);
                } else {
                    stalled = 0;
                }
            }
            // the server stopped reading us: our writes stalled well before 20 s, with bounded memory
            assertThat(stalled).isGreaterThanOrEqualTo(50);
            assertThat(stream).isLessThan(2 * 2000);
            assertGoodClientServed();
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> server.inFlightCalls() == 0);
    }

    @Test
    void noThreadOrFileDescriptorLeaksAfterManyBadConnections() throws Exception {
        for (int i = 0; i < 20; i++) {
            try (SocketChannel bad = raw()) {
                send(bad, 3, 1, 1, 0, new byte[]{1, 2, 3});
                readResponse(bad, 1);
            }
        }
        assertGoodClientServed();
        long fdsBefore = openFds();
        int threadsBefore = Thread.activeCount();
        for (int i = 0; i < 200; i++) {
            try (SocketChannel bad = raw()) {
                send(bad, 3, 1, 1, 0, new byte[]{1, 2, 3});
                readResponse(bad, 1);
            }
        }
        assertGoodClientServed();
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(openFds()).isLessThanOrEqualTo(fdsBefore + 2));
        assertThat(Thread.activeCount()).isLessThanOrEqualTo(threadsBefore + 2);
    }

    private static long openFds() throws IOException {
        try (var list = Files.list(Path.of("/proc/self/fd"))) {
            return list.count();
        }
    }

    @Test
    void aClientThatDisconnectsMidCallDoesNotDisturbOthers() throws Exception {
        CompletableFuture<Void> other = CompletableFuture.runAsync(() -> {
            try {
                for (int i = 0; i < 50; i++) {
                    assertGoodClientServed();
                }
            } catch (InterruptedException e) {
                throw new RuntimeException(e);
            }
        });
        try (SocketChannel bad = raw()) {
            byte[] data = request(NAME, "Sleep", com.google.protobuf.Int64Value.of(2000).toByteArray());
            send(bad, data.length, 1, 1, 0, data);
        }
        other.get(30, TimeUnit.SECONDS);
        await().atMost(Duration.ofSeconds(10)).until(() -> server.inFlightCalls() == 0);
    }
}
