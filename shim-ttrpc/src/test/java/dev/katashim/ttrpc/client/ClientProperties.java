package dev.katashim.ttrpc.client;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.MethodDescriptor;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.Message;
import dev.katashim.protocols.kata.agent.AgentProto;
import dev.katashim.protocols.rpc.Status;
import dev.katashim.protocols.ttrpc.Response;
import dev.katashim.ttrpc.status.TtrpcException;
import dev.katashim.ttrpc.testing.FuzzScale;
import dev.katashim.ttrpc.testing.LeakWatch;
import dev.katashim.ttrpc.testing.RandomMessages;
import dev.katashim.ttrpc.testing.TempSockets;
import dev.katashim.ttrpc.transport.Endpoint;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.ShrinkingMode;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

import java.io.DataInputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The shim's side of the agent connection, where the peer is a guest and so not to be trusted:
 * our client calls every Agent method while a hostile agent answers each request frame at random
 * (a well-formed answer, an error status with any code and message, a payload or envelope that
 * does not parse, a wrong or repeated stream id, a data, request or unknown-type frame, a header
 * announcing more than 4 MiB, silence, a closed connection). Every call ends within its deadline
 * with its answer or a {@link TtrpcException} with a message, nothing else; nothing leaks.
 */
class ClientProperties {
    private static final List<MethodDescriptor> AGENT_METHODS = AgentProto.getDescriptor().findServiceByName("AgentService").getMethods();
    /** Each call's own deadline: a busy machine only makes more calls end DEADLINE_EXCEEDED, an accepted outcome. */
    private static final Duration CALL_DEADLINE = Duration.ofMillis(500);
    private static final Duration UNDER_LOAD_DEADLINE = Duration.ofSeconds(60);

    private static TempSockets sockets;

    @BeforeContainer
    static void start() {
        LeakWatch.start();
        sockets = new TempSockets();
    }

    @AfterContainer
    static void stop() throws IOException {
        sockets.close();
        assertThat(LeakWatch.leaks()).as("ByteBufs leaked by the client").isEmpty();
    }

    @Property(shrinking = ShrinkingMode.OFF, tries = 100)
    void everyCallToAHostileAgentEndsWithItsAnswerOrAClearError(@ForAll long seed) throws Exception {
        Random random = new Random(seed);
        Path socket = sockets.path("agent.sock");
        java.nio.file.Files.deleteIfExists(socket); // a unix socket's file outlives its listener
        try (ServerSocketChannel listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            listener.bind(UnixDomainSocketAddress.of(socket));
            int calls = 1 + random.nextInt(Math.max(1, FuzzScale.framesPerTry() / 4));
            CompletableFuture<Void> agent = CompletableFuture.runAsync(() -> hostileAgent(listener, new Random(seed + 1)),
                    command -> Thread.ofVirtual().start(command));
            List<CompletableFuture<? extends Message>> answers = new ArrayList<>();
            try (TtrpcClient client = TtrpcClient.connect(new Endpoint.UnixPath(socket))) {
                for (int i = 0; i < calls; i++) {
                    MethodDescriptor method = AGENT_METHODS.get(random.nextInt(AGENT_METHODS.size()));
                    DynamicMessage request = DynamicMessage.parseFrom(method.getInputType(),
                            RandomMessages.valid(method.getInputType(), random));
                    answers.add(client.call("grpc.AgentService", method.getName(), request,
                            DynamicMessage.getDefaultInstance(method.getOutputType()).getParserForType(), CallOptions.timeout(CALL_DEADLINE)));
                }
                for (CompletableFuture<? extends Message> answer : answers) {
                    try {
                        answer.get(UNDER_LOAD_DEADLINE.toSeconds(), TimeUnit.SECONDS);
                    } catch (ExecutionException e) {
                        assertThat(e.getCause()).as("how a call failed").isInstanceOf(TtrpcException.class);
                        assertThat(e.getCause().getMessage()).as("the error's message (%s)", ((TtrpcException) e.getCause()).code()).isNotBlank();
                    }
                }
                assertThat(client.pendingCalls()).as("calls left waiting").isZero();
            }
            agent.cancel(true);
        }
    }

    /** Answers each request frame of one connection at random, until the client leaves. */
    private static void hostileAgent(ServerSocketChannel listener, Random random) {
        try (SocketChannel peer = listener.accept()) {
            DataInputStream in = new DataInputStream(Channels.newInputStream(peer));
            while (true) {
                int length = in.readInt();
                int stream = in.readInt();
                in.readUnsignedByte();
                in.readUnsignedByte();
                byte[] envelope = in.readNBytes(length);
                String method = dev.katashim.protocols.ttrpc.Request.parseFrom(envelope).getMethod();
                if (!answer(peer, stream, AgentProto.getDescriptor().findServiceByName("AgentService").findMethodByName(method), random)) {
                    return;
                }
            }
        } catch (IOException | RuntimeException gone) {
            // the client closed the connection, or we did
        }
    }

    /** Sends one hostile answer to {@code stream}; false when the connection should end. */
    private static boolean answer(SocketChannel peer, int stream, MethodDescriptor method, Random random) throws IOException {
        switch (random.nextInt(14)) {
            case 0, 1, 2 -> write(peer, stream, 2, response(Status.newBuilder().setCode(0).build(),
                    RandomMessages.valid(method.getOutputType(), random)));
            case 3 -> write(peer, stream, 2, response(Status.newBuilder().setCode(random.nextInt(40) - 5)
                    .setMessage(random.nextBoolean() ? "" : "agent says no " + random.nextInt()).build(), new byte[0]));
            case 4 -> write(peer, stream, 2, response(Status.newBuilder().setCode(0).build(), RandomMessages.junk(random, 1 + random.nextInt(40))));
            case 5 -> write(peer, stream, 2, RandomMessages.junk(random, random.nextInt(40)));
            case 6 -> write(peer, stream + 2 * (1 + random.nextInt(5)), 2, response(Status.getDefaultInstance(), new byte[0]));
            case 7 -> {
                byte[] ok = response(Status.getDefaultInstance(), new byte[0]);
                write(peer, stream, 2, ok);
                write(peer, stream, 2, ok); // answered twice
            }
            case 8 -> write(peer, stream, 3, RandomMessages.junk(random, random.nextInt(10)));
            case 9 -> write(peer, stream, 1, RandomMessages.junk(random, random.nextInt(10)));
            case 10 -> write(peer, stream, 4 + random.nextInt(250), new byte[0]);
            case 11 -> {
                ByteBuffer header = ByteBuffer.allocate(10).putInt((4 << 20) + 1 + random.nextInt(1000)).putInt(stream).put((byte) 2).put((byte) 0);
                peer.write(header.flip());
                return false; // its announced bytes never come
            }
            case 12 -> {
                // silence: the call's own deadline ends it
            }
            default -> {
                return false;
            }
        }
        return true;
    }

    private static byte[] response(Status status, byte[] payload) {
        return Response.newBuilder().setStatus(status).setPayload(ByteString.copyFrom(payload)).build().toByteArray();
    }

    private static void write(SocketChannel peer, int stream, int type, byte[] data) throws IOException {
        ByteBuffer frame = ByteBuffer.allocate(10 + data.length).putInt(data.length).putInt(stream).put((byte) type).put((byte) 0).put(data);
        frame.flip();
        while (frame.hasRemaining()) {
            peer.write(frame);
        }
    }
}
