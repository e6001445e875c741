package dev.katashim.metrics.support;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * HTTP by hand over a unix socket, for what a polite client never sends (other methods, huge
 * request lines, pipelined requests) and to see every header of the answer. Each read has a
 * deadline, so a server that hangs fails the test instead of hanging it.
 */
public final class RawHttp implements AutoCloseable {
    public record Response(int status, Map<String, String> headers, String body) {
    }

    private final SocketChannel channel;
    private final ByteArrayOutputStream pending = new ByteArrayOutputStream();

    private RawHttp(SocketChannel channel) {
        this.channel = channel;
    }

    public static RawHttp connect(Path socket) throws IOException {
        SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
        channel.connect(UnixDomainSocketAddress.of(socket));
        return new RawHttp(channel);
    }

    public void send(String text) throws IOException {
        send(text.getBytes(StandardCharsets.ISO_8859_1));
    }

    public void send(byte[] bytes) throws IOException {
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
    }

    /** Sends {@code bytes} on a thread of its own, ignoring a server that stops reading and closes. */
    public void sendInBackground(byte[] bytes) {
        Thread.ofVirtual().start(() -> {
            try {
                send(bytes);
            } catch (IOException closedOnUs) {
                // expected when the server refuses the request early
            }
        });
    }

    /** Reads one complete response (Content-Length framed), or fails after {@code timeout}. */
    public Response read(Duration timeout) throws Exception {
        return read(timeout, false);
    }

    /** As {@link #read(Duration)}; the answer to a HEAD request has headers only. */
    public Response read(Duration timeout, boolean toHead) throws Exception {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return readNow(toHead);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }, r -> Thread.ofVirtual().start(r)).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** True when the server closed the connection (EOF) within {@code timeout}. */
    public boolean closedWithin(Duration timeout) throws Exception {
        return CompletableFuture.supplyAsync(() -> {
            ByteBuffer buffer = ByteBuffer.allocate(4096);
            try {
                while (true) {
                    buffer.clear();
                    if (channel.read(buffer) < 0) {
                        return true;
                    }
                }
            } catch (IOException e) {
                return true; // reset
            }
        }, r -> Thread.ofVirtual().start(r)).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    private Response readNow(boolean toHead) throws IOException {
        String head = new String(readUntilBlankLine(), StandardCharsets.ISO_8859_1);
        String[] lines = head.split("\r\n");
        String[] statusLine = lines[0].split(" ", 3);
        Map<String, String> headers = new LinkedHashMap<>();
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            if (colon > 0) {
                headers.put(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT), lines[i].substring(colon + 1).trim());
            }
        }
        int length = toHead ? 0 : Integer.parseInt(headers.getOrDefault("content-length", "0"));
        byte[] body = readExactly(length);
        return new Response(Integer.parseInt(statusLine[1]), headers, new String(body, StandardCharsets.UTF_8));
    }

    private byte[] readUntilBlankLine() throws IOException {
        while (true) {
            byte[] data = pending.toByteArray();
            String text = new String(data, StandardCharsets.ISO_8859_1);
            int end = text.indexOf("\r\n\r\n");
            if (end >= 0) {
                pending.reset();
                pending.write(data, end + 4, data.length - end - 4);
                return java.util.Arrays.copyOf(data, end);
            }
            fill();
        }
    }

    private byte[] readExactly(int n) throws IOException {
        while (pending.size() < n) {
            fill();
        }
        byte[] data = pending.toByteArray();
        pending.reset();
        pending.write(data, n, data.length - n);
        return java.util.Arrays.copyOf(data, n);
    }

    private void fill() throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(65536);
        int read = channel.read(buffer);
        if (read < 0) {
            throw new IOException("connection closed by the server");
        }
        pending.write(buffer.array(), 0, read);
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
