package dev.katashim.ttrpc.testing;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.katashim.protocols.ttrpc.Response;
import dev.katashim.ttrpc.status.StatusCode;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Plays a {@link HostileSession} against a ttrpc server on a unix socket, on a raw socket, and
 * checks what came back: exactly the answers owed, each a well-formed response frame carrying a
 * known status with a message when it is an error; the connection closed only when the session
 * asked for it. {@code statusCheck} sees every status, with what was sent on its stream, for what the caller wants to add.
 */
public final class ServerFuzz {
    /** Generous: both cores may be busy with another suite. */
    public static final Duration UNDER_LOAD_DEADLINE = Duration.ofSeconds(60);
    private static final AtomicLong framesSent = new AtomicLong();

    private ServerFuzz() {
    }

    /** Frames sent by every session of this JVM so far. */
    public static long framesSent() {
        return framesSent.get();
    }

    public static void play(Path socket, HostileSession session, BiConsumer<String, dev.katashim.protocols.rpc.Status> statusCheck)
            throws Exception {
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            channel.connect(UnixDomainSocketAddress.of(socket));
            int owed = session.owedTotal();
            // read while writing: a server whose answers are not read stops reading (backpressure)
            CompletableFuture<Received> reading = CompletableFuture.supplyAsync(() -> read(channel, owed, session.ending()),
                    command -> Thread.ofVirtual().start(command));
            for (byte[] frame : session.frames()) {
                ByteBuffer buffer = ByteBuffer.wrap(frame);
                while (buffer.hasRemaining()) {
                    channel.write(buffer);
                }
            }
            framesSent.addAndGet(session.frames().size());
            Received received;
            try {
                received = reading.get(UNDER_LOAD_DEADLINE.toSeconds(), TimeUnit.SECONDS);
            } catch (java.util.concurrent.TimeoutException e) {
                channel.close();
                throw new AssertionError("no complete answer within " + UNDER_LOAD_DEADLINE + ": owed " + session.owed()
                        + ", got " + reading.getNow(null) + "\n" + String.join("\n", session.described()));
            }
            String context = "session:\n" + String.join("\n", session.described());
            received.statuses.forEach((stream, status) -> {
                assertThat(status.getCode()).as("status of stream %s: %s\n%s", stream, status, context)
                        .isBetween(0, StatusCode.UNAUTHENTICATED.number());
                if (status.getCode() != 0) {
                    assertThat(status.getMessage()).as("error message of stream %s\n%s", stream, context).isNotBlank();
                }
                statusCheck.accept(session.describe(stream), status);
            });
            switch (session.ending()) {
                case OPEN, OVERSIZED -> assertThat(received.answers).as("answers per stream id\n%s", context).isEqualTo(session.owed());
                case CLOSED_BY_SERVER -> {
                    assertThat(received.closed).as("the server closed the connection\n%s", context).isTrue();
                    received.answers.forEach((stream, count) -> assertThat(count)
                            .as("answers on stream %s\n%s", stream, context).isLessThanOrEqualTo(session.owed().getOrDefault(stream, 0)));
                }
            }
            if (session.ending() == HostileSession.Ending.OPEN) {
                assertThat(received.closed).as("the server kept the connection open\n%s", context).isFalse();
            }
        }
    }

    /** What came back: answers per stream id, the last status of each, whether the server closed. */
    private record Received(Map<Integer, Integer> answers, Map<Integer, dev.katashim.protocols.rpc.Status> statuses, boolean closed) {
    }

    private static Received read(SocketChannel channel, int owed, HostileSession.Ending ending) {
        Map<Integer, Integer> answers = new HashMap<>();
        Map<Integer, dev.katashim.protocols.rpc.Status> statuses = new HashMap<>();
        DataInputStream in = new DataInputStream(Channels.newInputStream(channel));
        int count = 0;
        try {
            // an open session ends once everything owed came; one the server closes, at end of stream
            while (ending == HostileSession.Ending.CLOSED_BY_SERVER || count < owed) {
                int length = in.readInt();
                int stream = in.readInt();
                int type = in.readUnsignedByte();
                int flags = in.readUnsignedByte();
                byte[] data = in.readNBytes(length);
                assertThat(type).as("frame type sent by the server on stream %s", stream).isEqualTo(2);
                assertThat(flags).isZero();
                Response response;
                try {
                    response = Response.parseFrom(data);
                } catch (InvalidProtocolBufferException e) {
                    throw new AssertionError("the server sent an unparseable response on stream " + stream, e);
                }
                answers.merge(stream, 1, Integer::sum);
                statuses.put(stream, response.getStatus());
                count++;
            }
            if (ending == HostileSession.Ending.OPEN) {
                // nothing more may come: ask for one more frame only if the server has one ready
                channel.configureBlocking(false);
                ByteBuffer extra = ByteBuffer.allocate(1);
                int read = channel.read(extra);
                assertThat(read).as("bytes after the last answer owed").isZero();
                return new Received(answers, statuses, false);
            }
            return new Received(answers, statuses, false);
        } catch (EOFException | java.nio.channels.ClosedChannelException e) {
            return new Received(answers, statuses, true);
        } catch (IOException e) {
            if (e.getMessage() != null && e.getMessage().contains("Connection reset")) {
                return new Received(answers, statuses, true);
            }
            throw new java.io.UncheckedIOException(e);
        }
    }
}
