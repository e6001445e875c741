package dev.katashim.ttrpc.server;

import com.google.protobuf.Empty;
import com.google.protobuf.Int32Value;
import com.google.protobuf.StringValue;
import dev.katashim.ttrpc.client.CallOptions;
import dev.katashim.ttrpc.client.TtrpcClient;
import dev.katashim.ttrpc.testing.EchoService;
import dev.katashim.ttrpc.testing.FuzzScale;
import dev.katashim.ttrpc.testing.FuzzTarget;
import dev.katashim.ttrpc.testing.HostileSession;
import dev.katashim.ttrpc.testing.LeakWatch;
import dev.katashim.ttrpc.testing.ServerFuzz;
import dev.katashim.ttrpc.testing.TempSockets;
import dev.katashim.ttrpc.transport.Endpoint;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.ShrinkingMode;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A real server on a unix socket, fed hostile sessions (random frames, stream ids, flags, service
 * and method names, envelopes and payloads): each gets exactly the answers it is owed, and after
 * each a well-behaved client on its own connection still gets correct answers. Nothing leaks.
 * A failing session is reproduced from the seed jqwik prints.
 */
class ServerProperties {
    /** Sleep is left out: a random sleep would be a client asking to wait, not bad input. */
    private static final List<FuzzTarget> TARGETS = List.of(
            new FuzzTarget(EchoService.NAME, "Echo", StringValue.getDescriptor()),
            new FuzzTarget(EchoService.NAME, "Fail", Int32Value.getDescriptor()),
            new FuzzTarget(EchoService.NAME, "Metadata", Empty.getDescriptor()),
            new FuzzTarget(EchoService.NAME, "Deadline", Empty.getDescriptor()));

    private static TempSockets sockets;
    private static Path socket;
    private static TtrpcServer server;
    private static TtrpcClient goodClient;
    private static long startNanos;

    @BeforeContainer
    static void start() throws Exception {
        LeakWatch.start();
        sockets = new TempSockets();
        socket = sockets.path("fuzz.sock");
        server = TtrpcServer.builder().service(new EchoService().definition()).build().listen(new Endpoint.UnixPath(socket));
        goodClient = TtrpcClient.connect(new Endpoint.UnixPath(socket));
        startNanos = System.nanoTime();
    }

    @AfterContainer
    static void stop() throws Exception {
        double seconds = (System.nanoTime() - startNanos) / 1e9;
        System.out.printf("ServerProperties: %,d hostile frames in %.1f s (%,.0f frames/s)%n",
                ServerFuzz.framesSent(), seconds, ServerFuzz.framesSent() / seconds);
        await().atMost(ServerFuzz.UNDER_LOAD_DEADLINE).until(() -> server.inFlightCalls() == 0);
        goodClient.close();
        server.close();
        sockets.close();
        assertThat(LeakWatch.leaks()).as("ByteBufs leaked by the server").isEmpty();
    }

    @Property(shrinking = ShrinkingMode.OFF)
    void everyHostileSessionGetsWhatItIsOwedAndTheGoodClientIsServed(@ForAll long seed) throws Exception {
        HostileSession session = HostileSession.generate(TARGETS, new Random(seed), FuzzScale.framesPerTry());
        ServerFuzz.play(socket, session, (sent, status) -> { });
        String word = "ok " + seed;
        assertThat(goodClient.blockingCall(EchoService.NAME, "Echo", StringValue.of(word), StringValue.parser(),
                CallOptions.timeout(Duration.ofSeconds(30))).getValue()).isEqualTo(word);
    }
}
