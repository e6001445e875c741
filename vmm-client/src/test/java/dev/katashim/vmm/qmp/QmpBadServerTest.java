package dev.katashim.vmm.qmp;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The QMP client against a FAKE QMP server standing for a QEMU the guest has taken over (a real
 * QEMU cannot be made to send it): a reply holding a 2 MiB string or nesting 200 deep (Jackson alone allows 1000) ends the
 * connection with a clear error instead of filling the shim's heap.
 */
class QmpBadServerTest {
    private static final Pattern ID = Pattern.compile("\"id\"\\s*:\\s*(\\d+)");
    /** Generous: the machine may be busy. */
    private static final Duration UNDER_LOAD = Duration.ofSeconds(20);

    private Path dir;
    private ServerSocketChannel server;

    @BeforeEach
    void listen() throws Exception {
        dir = Files.createTempDirectory(Path.of("/tmp"), "kqb");
        server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(dir.resolve("qmp.sock")));
    }

    @AfterEach
    void close() throws Exception {
        server.close();
        Files.deleteIfExists(dir.resolve("qmp.sock"));
        Files.delete(dir);
    }

    /** FAKE: greets, accepts qmp_capabilities, then answers the next command with {@code reply} (its id filled in). */
    private void serveOnce(String reply) {
        Thread.ofVirtual().start(() -> {
            try (SocketChannel connection = server.accept()) {
                write(connection, "{\"QMP\": {\"version\": {\"qemu\": {\"major\": 7, \"minor\": 2, \"micro\": 22}, \"package\": \"\"}, \"capabilities\": []}}\n");
                BufferedReader in = new BufferedReader(new InputStreamReader(Channels.newInputStream(connection), StandardCharsets.UTF_8));
                write(connection, "{\"return\": {}, \"id\": " + id(in.readLine()) + "}\n");
                write(connection, reply.replace("ID", id(in.readLine())));
                in.readLine(); // until the client hangs up
            } catch (Exception gone) {
                // the client closed
            }
        });
    }

    private static String id(String line) {
        Matcher m = ID.matcher(line);
        return m.find() ? m.group(1) : "0";
    }

    private static void write(SocketChannel connection, String text) throws Exception {
        ByteBuffer buffer = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
        while (buffer.hasRemaining()) {
            connection.write(buffer);
        }
    }

    @Test
    void aTwoMebibyteStringEndsTheConnectionWithItsReason() throws Exception {
        serveOnce("{\"return\": {\"status\": \"" + "x".repeat(2 << 20) + "\"}, \"id\": ID}\n");
        try (QmpClient client = QmpClient.connect(dir.resolve("qmp.sock"), UNDER_LOAD)) {
            assertThatThrownBy(client::queryStatus).isInstanceOfSatisfying(QmpException.ConnectionClosed.class,
                    e -> assertThat(e.getMessage()).contains("closed before command 'query-status' was answered")
                            .contains("String value length").contains("exceeds the maximum allowed (" + QmpClient.MAX_STRING));
            // the reader closes the client right after failing the pending call: wait for it, do not race it
            client.closed().handle((ok, failed) -> null).get(UNDER_LOAD.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
        }
    }

    @Test
    void aReplyNestedTwoHundredDeepEndsTheConnection() throws Exception {
        serveOnce("{\"return\": " + "[".repeat(200) + "]".repeat(200) + ", \"id\": ID}\n");
        try (QmpClient client = QmpClient.connect(dir.resolve("qmp.sock"), UNDER_LOAD)) {
            assertThatThrownBy(client::queryStatus).isInstanceOfSatisfying(QmpException.ConnectionClosed.class,
                    e -> assertThat(e.getMessage()).contains("nesting depth").contains("exceeds the maximum allowed (" + QmpClient.MAX_DEPTH));
        }
    }
}
