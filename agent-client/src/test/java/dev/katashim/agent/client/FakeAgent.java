package dev.katashim.agent.client;

import dev.katashim.protocols.kata.agent.HealthCheckResponse;
import dev.katashim.protocols.ttrpc.Request;
import dev.katashim.protocols.ttrpc.Response;

import java.io.DataInputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Queue;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * FAKE: a malicious Kata agent, for the faults a real agent cannot be made to commit. It speaks
 * ttrpc framing on a unix socket by hand, answers every health check properly (so the client can
 * dial it) and misbehaves on the AgentService calls as told by {@link #misbehave}, one fault per
 * call in order; a call with no fault left gets a proper, empty answer.
 */
final class FakeAgent implements AutoCloseable {
    /** What the fake does with one AgentService call. */
    enum Fault {
        /** A response frame on the call's stream holding 4 MiB (the frame limit) of random bytes. */
        GARBAGE_RESPONSE,
        /** 4 MiB of random bytes instead of a frame. */
        RAW_GARBAGE,
        /** Never answers (the connection stays open). */
        SILENT,
        /** Writes half a response frame, then closes the connection. */
        CLOSE_MID_CALL,
        /** A response header announcing 1 GiB, then keeps writing until the client hangs up. */
        OVERSIZED
    }

    static final int FOUR_MIB = 4 << 20;
    static final long ANNOUNCED = 1L << 30;

    private final ServerSocketChannel server;
    private final Path socket;
    private final Queue<Fault> faults = new ConcurrentLinkedQueue<>();
    private final List<SocketChannel> connections = new CopyOnWriteArrayList<>();
    final AtomicInteger accepted = new AtomicInteger();
    final AtomicInteger agentCalls = new AtomicInteger();
    /** Bytes of the oversized answer written before the client hung up. */
    final AtomicLong oversizedBytesWritten = new AtomicLong(-1);

    FakeAgent(Path socket) throws IOException {
        this.socket = socket;
        Files.deleteIfExists(socket);
        server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(socket));
        Thread.ofVirtual().name("fake-agent-accept").start(this::acceptLoop);
    }

    void misbehave(Fault... next) {
        faults.addAll(List.of(next));
    }

    private void acceptLoop() {
        try {
            while (true) {
                SocketChannel connection = server.accept();
                accepted.incrementAndGet();
                connections.add(connection);
                Thread.ofVirtual().name("fake-agent-conn").start(() -> serve(connection));
            }
        } catch (IOException closed) {
            // close() ends it
        }
    }

    private void serve(SocketChannel connection) {
        try (connection) {
            DataInputStream in = new DataInputStream(Channels.newInputStream(connection));
            while (true) {
                int length = in.readInt();
                int stream = in.readInt();
                in.readUnsignedByte(); // type: requests only
                in.readUnsignedByte();
                Request request = Request.parseFrom(in.readNBytes(length));
                if (request.getService().equals(AgentActions.HEALTH_SERVICE)) {
                    answer(connection, stream, HealthCheckResponse.newBuilder()
                            .setStatus(HealthCheckResponse.ServingStatus.SERVING).build().toByteArray());
                    continue;
                }
                agentCalls.incrementAndGet();
                Fault fault = faults.poll();
                if (fault == null) {
                    answer(connection, stream, new byte[0]);
                    continue;
                }
                switch (fault) {
                    case GARBAGE_RESPONSE -> write(connection, header(FOUR_MIB, stream, 2), garbage(FOUR_MIB));
                    case RAW_GARBAGE -> write(connection, garbage(FOUR_MIB));
                    case SILENT -> { }
                    case CLOSE_MID_CALL -> {
                        write(connection, header(100, stream, 2), new byte[40]);
                        return;
                    }
                    case OVERSIZED -> {
                        writeUntilHungUp(connection, stream);
                        return;
                    }
                }
            }
        } catch (IOException gone) {
            // the client hung up
        }
    }

    private void writeUntilHungUp(SocketChannel connection, int stream) {
        long written = 0;
        try {
            write(connection, header(ANNOUNCED, stream, 2));
            byte[] chunk = new byte[1 << 20];
            while (written < ANNOUNCED) {
                write(connection, chunk);
                written += chunk.length;
            }
        } catch (IOException hungUp) {
            // what the test waits for
        }
        oversizedBytesWritten.set(written);
    }

    private static void answer(SocketChannel connection, int stream, byte[] payload) throws IOException {
        byte[] response = Response.newBuilder().setPayload(com.google.protobuf.ByteString.copyFrom(payload)).build().toByteArray();
        write(connection, header(response.length, stream, 2), response);
    }

    private static byte[] header(long length, int stream, int type) {
        return ByteBuffer.allocate(10).putInt((int) length).putInt(stream).put((byte) type).put((byte) 0).array();
    }

    private static byte[] garbage(int size) {
        byte[] bytes = new byte[size];
        new Random(14).nextBytes(bytes); // fixed seed: the same garbage every run
        return bytes;
    }

    private static void write(SocketChannel connection, byte[]... parts) throws IOException {
        synchronized (connection) {
            for (byte[] part : parts) {
                ByteBuffer buffer = ByteBuffer.wrap(part);
                while (buffer.hasRemaining()) {
                    connection.write(buffer);
                }
            }
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (SocketChannel connection : connections) {
            connection.close();
        }
        Files.deleteIfExists(socket);
    }
}
