package dev.katashim.agent.client;

import dev.katashim.agent.guest.AgentOptions;
import dev.katashim.agent.guest.GuestAgent;
import dev.katashim.agent.guest.support.Specs;
import dev.katashim.agent.guest.support.TestRootfs;
import dev.katashim.protocols.kata.agent.CreateContainerRequest;
import dev.katashim.protocols.kata.agent.CreateSandboxRequest;
import dev.katashim.protocols.kata.agent.DestroySandboxRequest;
import dev.katashim.protocols.kata.agent.HealthCheckResponse;
import dev.katashim.protocols.kata.agent.ReadStreamRequest;
import dev.katashim.protocols.kata.agent.RemoveContainerRequest;
import dev.katashim.protocols.kata.agent.StartContainerRequest;
import dev.katashim.protocols.kata.agent.WaitProcessRequest;
import dev.katashim.ttrpc.status.StatusCode;
import dev.katashim.ttrpc.status.TtrpcException;
import dev.katashim.ttrpc.transport.Endpoint;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Our agent client against our real guest agent (host mode, real runc, a busybox rootfs). */
class AgentClientTest {
    private record Observation(String action, StatusCode outcome) {
    }

    private final ConcurrentLinkedQueue<Observation> observed = new ConcurrentLinkedQueue<>();
    private Path dir;
    private Path rootfs;
    private AgentOptions options;
    private GuestAgent agent;

    @BeforeEach
    void prepare() throws Exception {
        dir = Files.createTempDirectory(Path.of("/tmp"), "kac");
        rootfs = TestRootfs.create(dir.resolve("rootfs"));
        options = new AgentOptions(List.of(new Endpoint.UnixPath(dir.resolve("agent.sock"))), dir.resolve("state"), true,
                AgentOptions.findRunc(), "/kata-agent-client-test-" + UUID.randomUUID().toString().substring(0, 8), dir.resolve("shared"));
    }

    @AfterEach
    void cleanUp() throws Exception {
        if (agent != null) {
            agent.close();
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    private AgentClient.Builder client() {
        return AgentClient.builder(new Endpoint.UnixPath(dir.resolve("agent.sock")))
                .observer((action, nanos, outcome) -> observed.add(new Observation(action, outcome)));
    }

    @Test
    void dialsAnAgentThatIsStillBootingAndWaitsForItsHealth() throws Exception {
        CompletableFuture<AgentClient> dialing = CompletableFuture.supplyAsync(() -> {
            try {
                return client().dialTimeout(Duration.ofSeconds(20)).connect();
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        Thread.sleep(700); // the agent is not there yet: the client retries
        assertThat(dialing).isNotDone();
        agent = GuestAgent.start(options);
        try (AgentClient client = dialing.get(20, TimeUnit.SECONDS)) {
            assertThat(client.check().getStatus()).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
        }
        assertThat(observed).contains(new Observation("grpc.CheckRequest", StatusCode.OK));
    }

    @Test
    void runsAContainerAndReportsEveryCallOnceUnderItsSpecAction() throws Exception {
        agent = GuestAgent.start(options);
        try (AgentClient client = client().connect()) {
            observed.clear();
            client.createSandbox(CreateSandboxRequest.newBuilder().setSandboxId("sb").setHostname("sb").build());
            client.createContainer(CreateContainerRequest.newBuilder().setContainerId("c1").setExecId("c1")
                    .setOCI(Specs.busybox(rootfs, "/bin/echo", "hello from the agent").build()).build());
            client.startContainer(StartContainerRequest.newBuilder().setContainerId("c1").build());
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] chunk;
            while ((chunk = client.readStdout(ReadStreamRequest.newBuilder().setContainerId("c1").setExecId("c1").setLen(4096).build())
                    .getData().toByteArray()).length > 0) {
                out.write(chunk);
            }
            assertThat(out.toString()).isEqualTo("hello from the agent\n");
            assertThat(client.waitProcess(WaitProcessRequest.newBuilder().setContainerId("c1").setExecId("c1").build()).getStatus()).isZero();
            assertThatThrownBy(() -> client.startContainer(StartContainerRequest.newBuilder().setContainerId("nope").build()))
                    .isInstanceOfSatisfying(TtrpcException.class, e -> assertThat(e.code()).isEqualTo(StatusCode.NOT_FOUND));
            client.removeContainer(RemoveContainerRequest.newBuilder().setContainerId("c1").build());
            client.destroySandbox(DestroySandboxRequest.getDefaultInstance());
        }
        List<Observation> calls = List.copyOf(observed);
        assertThat(calls).filteredOn(o -> !o.action().equals("grpc.ReadStreamRequest")).containsExactly(
                new Observation("grpc.CreateSandboxRequest", StatusCode.OK),
                new Observation("grpc.CreateContainerRequest", StatusCode.OK),
                new Observation("grpc.StartContainerRequest", StatusCode.OK),
                new Observation("grpc.WaitProcessRequest", StatusCode.OK),
                new Observation("grpc.StartContainerRequest", StatusCode.NOT_FOUND),
                new Observation("grpc.RemoveContainerRequest", StatusCode.OK),
                new Observation("grpc.DestroySandboxRequest", StatusCode.OK));
        assertThat(calls).filteredOn(o -> o.action().equals("grpc.ReadStreamRequest")).hasSizeGreaterThanOrEqualTo(2)
                .allMatch(o -> o.outcome() == StatusCode.OK);
    }

    @Test
    void anAgentThatGoesAwayFailsCallsAsUnavailable() throws Exception {
        agent = GuestAgent.start(options);
        AgentClient client = client().connect();
        agent.close();
        agent = null;
        assertThatThrownBy(() -> client.createSandbox(CreateSandboxRequest.getDefaultInstance()))
                .isInstanceOfSatisfying(TtrpcException.class, e -> assertThat(e.code()).isEqualTo(StatusCode.UNAVAILABLE));
        client.close();
    }
}
