package dev.katashim.metrics.server;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A client that writes whatever bytes it is given on a unix socket and reads HTTP/1.1 answers
 * strictly (status line, headers, a Content-Length body), the way a test must to see exactly what
 * the server sent.
 */
final class RawHttpConnection implements AutoCloseable {
    private final SocketChannel channel;
    private final InputStream in;

    /** One answer as it came. {@code headers}' names are lower case. */
    record Answer(int status, Map<String, String> headers, String body) {
        String header(String name) {
            return headers.get(name);
        }
    }

    RawHttpConnection(Path socket) throws IOException {
        channel = SocketChannel.open(StandardProtocolFamily.UNIX);
        channel.connect(UnixDomainSocketAddress.of(socket));
        in = new BufferedInputStream(Channels.newInputStream(channel), 1 << 16);
    }

    void write(byte[] bytes) throws IOException {
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
    }

    /** Stops sending: the server sees end of input once it has read everything before. */
    void shutdownOutput() throws IOException {
        channel.shutdownOutput();
    }

    /** The next answer (its body unless {@code head}), or null once the server closed the connection. */
    Answer read(boolean head) throws IOException {
        String statusLine = line();
        if (statusLine == null) {
            return null;
        }
        String[] parts = statusLine.split(" ", 3);
        if (parts.length < 2 || !parts[0].equals("HTTP/1.1")) {
            throw new IOException("not an HTTP/1.1 status line: " + statusLine);
        }
        Map<String, String> headers = new LinkedHashMap<>();
        for (String header; !(header = requireLine()).isEmpty(); ) {
            int colon = header.indexOf(':');
            if (colon <= 0) {
                throw new IOException("malformed header line: " + header);
            }
            headers.put(header.substring(0, colon).trim().toLowerCase(Locale.ROOT), header.substring(colon + 1).trim());
        }
        int status = Integer.parseInt(parts[1]);
        String length = headers.get("content-length");
        if (head || status == 100 || status == 204 || status == 304) {
            return new Answer(status, headers, "");
        }
        if (length == null) {
            throw new IOException("answer " + status + " without Content-Length: " + headers);
        }
        byte[] body = in.readNBytes(Integer.parseInt(length));
        if (body.length < Integer.parseInt(length)) {
            throw new EOFException("body cut short");
        }
        return new Answer(status, headers, new String(body, StandardCharsets.UTF_8));
    }

    /** Every answer until the server closes, for requests whose count is not known. */
    List<Answer> readUntilClosed() throws IOException {
        List<Answer> answers = new ArrayList<>();
        for (Answer a; (a = read(false)) != null; ) {
            answers.add(a);
        }
        return answers;
    }

    private String requireLine() throws IOException {
        String line = line();
        if (line == null) {
            throw new EOFException("connection closed inside an answer's headers");
        }
        return line;
    }

    /** A CRLF-terminated line, or null at end of input before any byte of it. */
    private String line() throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        while (true) {
            int b;
            try {
                b = in.read();
            } catch (IOException e) {
                if (line.size() == 0 && String.valueOf(e.getMessage()).contains("reset")) {
                    return null; // the server closed with our bytes unread: what a refusal may do
                }
                throw e;
            }
            if (b < 0) {
                if (line.size() == 0) {
                    return null;
                }
                throw new EOFException("connection closed inside a line");
            }
            if (b == '\n') {
                String s = line.toString(StandardCharsets.ISO_8859_1);
                return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
            }
            line.write(b);
        }
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
