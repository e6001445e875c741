package dev.katashim.shim.task;

import dev.katashim.protocols.containerd.runtime.sandbox.v1.SandboxProto;
import dev.katashim.protocols.containerd.task.v2.ConnectRequest;
import dev.katashim.protocols.containerd.task.v2.ConnectResponse;
import dev.katashim.protocols.containerd.task.v2.CreateTaskRequest;
import dev.katashim.protocols.containerd.task.v2.ShimProto;
import dev.katashim.protocols.kata.agent.AgentProto;
import dev.katashim.protocols.kata.agent.HealthProto;
import dev.katashim.protocols.rpc.Status;
import dev.katashim.shim.events.TaskEvents;
import dev.katashim.ttrpc.client.CallOptions;
import dev.katashim.ttrpc.client.TtrpcClient;
import dev.katashim.ttrpc.server.TtrpcServer;
import dev.katashim.ttrpc.status.StatusCode;
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

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The shim's own ttrpc server as containerd reaches it — the Task API (v2 and v3) and the Sandbox
 * API over {@link FakeSandbox}, on a unix socket — fed hostile sessions: random protobuf payloads
 * for every method of those services (from their descriptors, so a new RPC is fuzzed as soon as it
 * is in the .proto), and, as a confused client would send them, for every Agent and Health method.
 * Each try starts a fresh shim holding one created container, whose id and bundle the payloads
 * often name, so that requests reach the handlers' logic and not only their lookups. Every request
 * is answered with a status naming the problem, never UNKNOWN (an exception the shim did not
 * mean), and afterwards a well-behaved client's Connect is answered correctly. Nothing leaks.
 */
class TaskServerProperties {
    private static final String POD = "pod1";
    /** Wait and WaitSandbox wait for an exit by contract: always called with a short deadline. */
    private static final Set<String> WAITING = Set.of("Wait", "WaitSandbox");
    private static final List<FuzzTarget> TARGETS = targets();

    private static TempSockets sockets;
    private static long startNanos;
    private static final Map<String, LongAdder> statusCounts = new ConcurrentHashMap<>();

    private static List<FuzzTarget> targets() {
        List<FuzzTarget> targets = new ArrayList<>();
        targets.addAll(FuzzTarget.served(ShimProto.getDescriptor().findServiceByName("Task"), TaskService.NAME, WAITING));
        targets.addAll(FuzzTarget.served(dev.katashim.protocols.containerd.task.v3.ShimProto.getDescriptor().findServiceByName("Task"),
                TaskService.NAME_V3, WAITING));
        targets.addAll(FuzzTarget.served(SandboxProto.getDescriptor().findServiceByName("Sandbox"), SandboxService.NAME, WAITING));
        targets.addAll(FuzzTarget.of(AgentProto.getDescriptor().findServiceByName("AgentService")));
        targets.addAll(FuzzTarget.of(HealthProto.getDescriptor().findServiceByName("Health")));
        return List.copyOf(targets);
    }

    @BeforeContainer
    static void start() {
        LeakWatch.start();
        sockets = new TempSockets();
        startNanos = System.nanoTime();
    }

    @AfterContainer
    static void stop() throws Exception {
        double seconds = (System.nanoTime() - startNanos) / 1e9;
        System.out.printf("TaskServerProperties: %,d hostile frames in %.1f s (%,.0f frames/s); statuses: %s%n",
                ServerFuzz.framesSent(), seconds, ServerFuzz.framesSent() / seconds, new java.util.TreeMap<>(statusCounts));
        sockets.close();
        assertThat(LeakWatch.leaks()).as("ByteBufs leaked by the shim's server").isEmpty();
    }

    @Property(shrinking = ShrinkingMode.OFF)
    void theShimAnswersEveryHostileRequestClearlyAndKeepsServing(@ForAll long seed) throws Exception {
        Path socket = sockets.path("shim-" + Long.toHexString(seed) + ".sock");
        Path bundle = Files.createDirectories(sockets.path("bundle-" + Long.toHexString(seed)));
        Files.writeString(bundle.resolve("config.json"), "{\"process\":{\"args\":[\"/bin/sleep\",\"60\"]},\"root\":{\"path\":\"rootfs\"}}");
        FakeSandbox sandbox = new FakeSandbox();
        TaskService tasks = new TaskService(sandbox, "kt-fuzz", new TaskEvents((topic, event) -> { }), () -> { });
        SandboxService sandboxApi = new SandboxService(sandbox, POD, Optional.empty(), tasks, () -> { });
        TtrpcServer server = TtrpcServer.builder()
                .service(tasks.definition(TaskService.NAME))
                .service(tasks.definition(TaskService.NAME_V3))
                .service(sandboxApi.definition())
                .build().listen(new Endpoint.UnixPath(socket));
        try (TtrpcClient client = TtrpcClient.connect(new Endpoint.UnixPath(socket))) {
            client.blockingCall(TaskService.NAME, "Create", CreateTaskRequest.newBuilder().setId(POD).setBundle(bundle.toString()).build(),
                    dev.katashim.protocols.containerd.task.v2.CreateTaskResponse.parser(), CallOptions.timeout(Duration.ofSeconds(30)));

            List<String> words = List.of(POD, bundle.toString(), "", "9", "app");
            HostileSession session = HostileSession.generate(TARGETS, new Random(seed), FuzzScale.framesPerTry(), words);
            ServerFuzz.play(socket, session, TaskServerProperties::assertMeant);

            ConnectResponse connected = client.blockingCall(TaskService.NAME, "Connect", ConnectRequest.newBuilder().setId(POD).build(),
                    ConnectResponse.parser(), CallOptions.timeout(Duration.ofSeconds(30)));
            assertThat(connected.getShimPid()).isEqualTo((int) ProcessHandle.current().pid());
        } finally {
            sandbox.destroy();
            await().atMost(ServerFuzz.UNDER_LOAD_DEADLINE).until(() -> server.inFlightCalls() == 0);
            server.close();
            Files.deleteIfExists(bundle.resolve("config.json"));
            Files.deleteIfExists(bundle);
        }
    }

    /** UNKNOWN is what an exception the handler did not mean becomes: a bug, whatever the input. */
    private static void assertMeant(String sent, Status status) {
        StatusCode code = StatusCode.fromNumber(status.getCode());
        statusCounts.computeIfAbsent(code.name(), k -> new LongAdder()).increment();
        assertThat(code).as("%s: %s", sent, status.getMessage()).isNotEqualTo(StatusCode.UNKNOWN);
    }
}
