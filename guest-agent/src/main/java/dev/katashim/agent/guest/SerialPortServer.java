package dev.katashim.agent.guest;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.katashim.protocols.ttrpc.Request;
import dev.katashim.protocols.ttrpc.Response;
import dev.katashim.ttrpc.frame.Frame;
import dev.katashim.ttrpc.server.CallDispatcher;
import dev.katashim.ttrpc.status.StatusCode;
import dev.katashim.ttrpc.status.TtrpcException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * ttrpc over a virtio-serial port ({@code /dev/vport*p*} in a guest without vsock): a character
 * device, not a socket, so plain blocking reads and writes on their own threads, feeding the same
 * {@link CallDispatcher} as the socket transports. One byte stream carries every call; ttrpc's
 * stream ids keep them apart. When the host side closes the port (EOF) it is opened again.
 */
public final class SerialPortServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SerialPortServer.class);
    private static final Duration REOPEN_DELAY = Duration.ofMillis(200);

    /** Opens the port; called again after the host side went away. */
    public interface Port {
        Connection open() throws IOException;
    }

    /** Both directions of one open port; closing it closes the port. */
    public record Connection(InputStream in, OutputStream out, java.io.Closeable port) implements java.io.Closeable {
        @Override
        public void close() throws IOException {
            port.close();
        }
    }

    private final Port port;
    private final CallDispatcher dispatcher;
    private final ExecutorService calls = Executors.newVirtualThreadPerTaskExecutor();
    private final Thread reader;
    private volatile boolean closed;

    private SerialPortServer(Port port, CallDispatcher dispatcher, String name) {
        this.port = port;
        this.dispatcher = dispatcher;
        this.reader = Thread.ofPlatform().daemon().name("serial-" + name).unstarted(this::serve);
    }

    public static SerialPortServer start(Path device, CallDispatcher dispatcher) {
        return start(() -> {
            // A virtio-serial port can be open only once at a time (EBUSY): one read-write open,
            // with a stream per direction on that descriptor (no shared lock between reads and writes).
            java.io.RandomAccessFile file = new java.io.RandomAccessFile(device.toFile(), "rw");
            return new Connection(new java.io.FileInputStream(file.getFD()), new java.io.FileOutputStream(file.getFD()), file);
        }, dispatcher, device.getFileName().toString());
    }

    public static SerialPortServer start(Port port, CallDispatcher dispatcher, String name) {
        SerialPortServer server = new SerialPortServer(port, dispatcher, name);
        server.reader.start();
        return server;
    }

    private void serve() {
        while (!closed) {
            try (Connection connection = port.open()) {
                serveConnection(new DataInputStream(connection.in()), connection.out());
            } catch (EOFException e) {
                log.debug("serial port: the host side closed");
            } catch (IOException e) {
                if (!closed) {
                    log.warn("serial port: {}", e.toString());
                }
            }
            if (!closed) {
                try {
                    Thread.sleep(REOPEN_DELAY);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }
    }

    private void serveConnection(DataInputStream in, OutputStream out) throws IOException {
        Object writeLock = new Object();
        byte[] header = new byte[Frame.HEADER_LENGTH];
        while (!closed) {
            in.readFully(header);
            ByteBuffer h = ByteBuffer.wrap(header);
            long length = Integer.toUnsignedLong(h.getInt());
            int streamId = h.getInt();
            int type = h.get() & 0xff;
            if (length > Frame.MAX_DATA_LENGTH) {
                in.skipNBytes(length);
                answer(out, writeLock, streamId, CallDispatcher.failure(TtrpcException.of(StatusCode.RESOURCE_EXHAUSTED,
                        "ttrpc: message length %d exceeds the maximum message size of %d", length, Frame.MAX_DATA_LENGTH)));
                continue;
            }
            byte[] data = in.readNBytes((int) length);
            if (data.length < length) {
                throw new EOFException();
            }
            if (type != 1) {
                continue; // only requests travel towards the agent; anything else is ignored
            }
            Request request;
            try {
                request = Request.parseFrom(data);
            } catch (InvalidProtocolBufferException e) {
                answer(out, writeLock, streamId, CallDispatcher.failure(new TtrpcException(StatusCode.INVALID_ARGUMENT,
                        "ttrpc: cannot decode the request envelope: " + e.getMessage())));
                continue;
            }
            long deadline = request.getTimeoutNano() > 0 ? System.nanoTime() + request.getTimeoutNano() : 0;
            calls.execute(() -> answer(out, writeLock, streamId, dispatcher.dispatch(request, deadline)));
        }
    }

    private static void answer(OutputStream out, Object writeLock, int streamId, Response response) {
        byte[] body = response.toByteArray();
        if (body.length > Frame.MAX_DATA_LENGTH) {
            body = CallDispatcher.failure(TtrpcException.of(StatusCode.RESOURCE_EXHAUSTED,
                    "ttrpc: response of %d bytes exceeds the maximum message size of %d", body.length, Frame.MAX_DATA_LENGTH)).toByteArray();
        }
        ByteBuffer frame = ByteBuffer.allocate(Frame.HEADER_LENGTH + body.length)
                .putInt(body.length).putInt(streamId).put((byte) 2).put((byte) 0).put(body);
        synchronized (writeLock) {
            try {
                out.write(frame.array());
                out.flush();
            } catch (IOException e) {
                log.debug("serial port: cannot answer stream {}: {}", streamId, e.toString());
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        reader.interrupt();
        calls.shutdownNow();
    }
}
