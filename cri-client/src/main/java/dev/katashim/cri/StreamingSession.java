package dev.katashim.cri;

import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One Exec or Attach through a CRI streaming server (the URL an Exec/Attach call returns), over a
 * websocket as {@code kubectl exec} can: the {@code v4.channel.k8s.io} protocol, where the first
 * byte of each binary message names the stream (0 stdin, 1 stdout, 2 stderr, 3 the final status as
 * JSON, 4 terminal size).
 */
public final class StreamingSession implements AutoCloseable {
    public static final String PROTOCOL = "v4.channel.k8s.io";
    private static final byte STDIN = 0;
    private static final byte STDOUT = 1;
    private static final byte STDERR = 2;
    private static final byte STATUS = 3;
    private static final byte RESIZE = 4;
    private static final Pattern EXIT_CODE = Pattern.compile("\"reason\":\"ExitCode\",\"message\":\"(\\d+)\"");

    private final ByteArrayOutputStream stdout = new ByteArrayOutputStream();
    private final ByteArrayOutputStream stderr = new ByteArrayOutputStream();
    private final CompletableFuture<Void> closed = new CompletableFuture<>();
    private final HttpClient http;
    private volatile String status;
    private WebSocket socket;

    private StreamingSession(HttpClient http) {
        this.http = http;
    }

    /** Opens {@code url} (http://host:port/exec/token as the runtime gave it) as a websocket. */
    public static StreamingSession open(String url, Duration timeout) throws Exception {
        HttpClient http = HttpClient.newBuilder().connectTimeout(timeout).build();
        StreamingSession session = new StreamingSession(http);
        URI uri = URI.create(url.replaceFirst("^http", "ws"));
        try {
            session.socket = http.newWebSocketBuilder().subprotocols(PROTOCOL).connectTimeout(timeout)
                    .buildAsync(uri, session.new Listener()).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException | InterruptedException e) {
            http.close();
            throw e;
        }
        return session;
    }

    /** Writes to the process's stdin (the request must have asked for stdin). */
    public void sendStdin(String text) throws Exception {
        byte[] data = text.getBytes(StandardCharsets.UTF_8);
        ByteBuffer frame = ByteBuffer.allocate(data.length + 1).put(STDIN).put(data).flip();
        socket.sendBinary(frame, true).get(30, TimeUnit.SECONDS);
    }

    /** Tells a terminal's size (the request must have asked for a tty), as kubectl does on connecting and on every resize. */
    public void resize(int columns, int rows) throws Exception {
        byte[] size = ("{\"Width\":" + columns + ",\"Height\":" + rows + "}").getBytes(StandardCharsets.UTF_8);
        ByteBuffer frame = ByteBuffer.allocate(size.length + 1).put(RESIZE).put(size).flip();
        socket.sendBinary(frame, true).get(30, TimeUnit.SECONDS);
    }

    /** Waits for the server to close the stream (an exec's process ended), at most {@code timeout}. */
    public StreamingSession awaitEnd(Duration timeout) throws Exception {
        closed.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        return this;
    }

    public synchronized String stdout() {
        return stdout.toString(StandardCharsets.UTF_8);
    }

    public synchronized String stderr() {
        return stderr.toString(StandardCharsets.UTF_8);
    }

    /** The JSON status the server sent when the process ended, if it did. */
    public Optional<String> status() {
        return Optional.ofNullable(status);
    }

    /** The exit code as the final status tells it: 0 for Success, the ExitCode cause otherwise. */
    public Optional<Integer> exitCode() {
        String json = status;
        if (json == null) {
            return Optional.empty();
        }
        if (json.contains("\"status\":\"Success\"")) {
            return Optional.of(0);
        }
        Matcher m = EXIT_CODE.matcher(json);
        return m.find() ? Optional.of(Integer.parseInt(m.group(1))) : Optional.empty();
    }

    @Override
    public void close() {
        try {
            if (socket != null && !socket.isOutputClosed()) {
                socket.sendClose(WebSocket.NORMAL_CLOSURE, "").get(5, TimeUnit.SECONDS);
            }
        } catch (Exception ignored) {
            // the server may have gone already; abort below frees the connection either way
        } finally {
            if (socket != null) {
                socket.abort();
            }
            http.close();
        }
    }

    private synchronized void deliver(byte[] message) {
        if (message.length == 0) {
            return;
        }
        switch (message[0]) {
            case STDOUT -> stdout.write(message, 1, message.length - 1);
            case STDERR -> stderr.write(message, 1, message.length - 1);
            case STATUS -> {
                if (message.length > 1) {
                    status = new String(message, 1, message.length - 1, StandardCharsets.UTF_8);
                }
            }
            default -> {
                // stdin echoes and resize acknowledgements carry nothing for us
            }
        }
    }

    private final class Listener implements WebSocket.Listener {
        private final ByteArrayOutputStream partial = new ByteArrayOutputStream();

        @Override
        public CompletionStage<?> onBinary(WebSocket webSocket, ByteBuffer data, boolean last) {
            byte[] chunk = new byte[data.remaining()];
            data.get(chunk);
            partial.writeBytes(chunk);
            if (last) {
                deliver(partial.toByteArray());
                partial.reset();
            }
            webSocket.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
            closed.complete(null);
            return null;
        }

        @Override
        public void onError(WebSocket webSocket, Throwable error) {
            closed.completeExceptionally(error);
        }
    }
}
