package dev.katashim.agent.guest;

import com.google.protobuf.ByteString;
import dev.katashim.protocols.kata.agent.CheckRequest;
import dev.katashim.protocols.kata.agent.HealthCheckResponse;
import dev.katashim.protocols.kata.agent.VersionCheckResponse;
import dev.katashim.protocols.ttrpc.Request;
import dev.katashim.protocols.ttrpc.Response;
import dev.katashim.ttrpc.server.CallDispatcher;
import dev.katashim.ttrpc.status.StatusCode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * ttrpc over a byte stream that is no socket (a virtio-serial port in a guest): the server only
 * sees plain blocking streams; here a connected unix socket's streams stand in for the device.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class SerialPortServerTest {

    @Test
    void callsAreAnsweredOnTheirStreamsAndAnOversizedFrameIsRefused() throws Exception {
        Path dir = Files.createTempDirectory(Path.of("/tmp"), "kgs");
        try (ServerSocketChannel listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            listener.bind(UnixDomainSocketAddress.of(dir.resolve("port")));
            SocketChannel hostSide = SocketChannel.open(UnixDomainSocketAddress.of(dir.resolve("port")));
            SocketChannel guestSide = listener.accept();
            exchange(() -> new SerialPortServer.Connection(Channels.newInputStream(guestSide),
                    Channels.newOutputStream(guestSide), guestSide), Channels.newOutputStream(hostSide), Channels.newInputStream(hostSide));
            hostSide.close();
        } finally {
            Files.deleteIfExists(dir.resolve("port"));
            Files.delete(dir);
        }
    }

    private void exchange(SerialPortServer.Port port, OutputStream toAgent, InputStream fromAgent) throws Exception {
        try (SerialPortServer server = SerialPortServer.start(port,
                new CallDispatcher(List.of(HealthService.definition("serial-test"))), "test")) {
            send(toAgent, 1, request("Check"));
            send(toAgent, 3, request("Version"));
            // An oversized frame: announced above 4 MiB, its bytes are skipped, its stream answered.
            byte[] big = new byte[(4 << 20) + 1];
            send(toAgent, 5, big);
            send(toAgent, 7, request("Nope"));

            DataInputStream in = new DataInputStream(fromAgent);
            Map<Integer, Response> answers = new HashMap<>();
            for (int i = 0; i < 4; i++) {
                byte[] header = new byte[10];
                in.readFully(header);
                ByteBuffer h = ByteBuffer.wrap(header);
                int length = h.getInt();
                int stream = h.getInt();
                assertThat(h.get()).as("response frame type").isEqualTo((byte) 2);
                byte[] body = new byte[length];
                in.readFully(body);
                answers.put(stream, Response.parseFrom(body));
            }
            assertThat(HealthCheckResponse.parseFrom(answers.get(1).getPayload()).getStatus())
                    .isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
            assertThat(VersionCheckResponse.parseFrom(answers.get(3).getPayload()).getAgentVersion()).isEqualTo("serial-test");
            assertThat(StatusCode.fromNumber(answers.get(5).getStatus().getCode())).isEqualTo(StatusCode.RESOURCE_EXHAUSTED);
            assertThat(StatusCode.fromNumber(answers.get(7).getStatus().getCode())).isEqualTo(StatusCode.UNIMPLEMENTED);
            assertThat(answers.get(7).getStatus().getMessage()).contains("Nope");
        }
    }

    private static byte[] request(String method) {
        return Request.newBuilder().setService(HealthService.SERVICE).setMethod(method)
                .setPayload(ByteString.copyFrom(CheckRequest.getDefaultInstance().toByteArray())).build().toByteArray();
    }

    private static void send(OutputStream out, int stream, byte[] body) throws IOException {
        out.write(ByteBuffer.allocate(10).putInt(body.length).putInt(stream).put((byte) 1).put((byte) 0).array());
        out.write(body);
        out.flush();
    }
}
