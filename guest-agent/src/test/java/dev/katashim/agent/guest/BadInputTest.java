package dev.katashim.agent.guest;

import com.google.protobuf.ByteString;
import com.google.protobuf.Empty;
import com.google.protobuf.MessageLite;
import dev.katashim.agent.guest.support.AgentFixture;
import dev.katashim.agent.guest.support.Specs;
import dev.katashim.protocols.kata.agent.CreateContainerRequest;
import dev.katashim.protocols.kata.agent.CreateSandboxRequest;
import dev.katashim.protocols.kata.agent.ExecProcessRequest;
import dev.katashim.protocols.kata.agent.KernelModule;
import dev.katashim.protocols.kata.agent.ListProcessesRequest;
import dev.katashim.protocols.kata.agent.OnlineCPUMemRequest;
import dev.katashim.protocols.kata.agent.PauseContainerRequest;
import dev.katashim.protocols.kata.agent.ReadStreamRequest;
import dev.katashim.protocols.kata.agent.ReadStreamResponse;
import dev.katashim.protocols.kata.agent.RemoveContainerRequest;
import dev.katashim.protocols.kata.agent.ResumeContainerRequest;
import dev.katashim.protocols.kata.agent.SetGuestDateTimeRequest;
import dev.katashim.protocols.kata.agent.SignalProcessRequest;
import dev.katashim.protocols.kata.agent.Spec;
import dev.katashim.protocols.kata.agent.StartContainerRequest;
import dev.katashim.protocols.kata.agent.StatsContainerRequest;
import dev.katashim.protocols.kata.agent.TtyWinResizeRequest;
import dev.katashim.protocols.kata.agent.WaitProcessRequest;
import dev.katashim.protocols.kata.agent.WriteStreamRequest;
import dev.katashim.protocols.ttrpc.Request;
import dev.katashim.protocols.ttrpc.Response;
import dev.katashim.ttrpc.client.CallOptions;
import dev.katashim.ttrpc.client.TtrpcClient;
import dev.katashim.ttrpc.status.StatusCode;
import dev.katashim.ttrpc.status.TtrpcException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Wrong calls get a clear status naming what was wrong; the agent keeps serving; nothing is left
 * behind (checked after every test: no runc container, cgroup, runc process or bundle).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class BadInputTest {
    private static AgentFixture agent;

    @BeforeAll
    static void startAgent() throws Exception {
        agent = AgentFixture.start();
    }

    @AfterEach
    void stillServingAndNothingLeft() throws Exception {
        agent.assertServing();
        agent.cleanUp();
    }

    @AfterAll
    static void stopAgent() throws Exception {
        if (agent != null) {
            agent.close();
        }
    }

    private static void assertStatus(TtrpcException e, StatusCode code, String... fragments) {
        assertThat(e.code()).as("status of: %s", e.getMessage()).isEqualTo(code);
        assertThat(e.getMessage()).contains(fragments);
    }

    @Test
    void unknownContainerIdIsNotFoundForEveryContainerCall() throws Exception {
        Map<String, MessageLite> calls = Map.of(
                "StartContainer", StartContainerRequest.newBuilder().setContainerId("nope").build(),
                "ExecProcess", ExecProcessRequest.newBuilder().setContainerId("nope").setExecId("e").setProcess(Specs.process("true")).build(),
                "SignalProcess", SignalProcessRequest.newBuilder().setContainerId("nope").setSignal(9).build(),
                "WaitProcess", WaitProcessRequest.newBuilder().setContainerId("nope").build(),
                "ReadStdout", ReadStreamRequest.newBuilder().setContainerId("nope").setLen(10).build(),
                "WriteStdin", WriteStreamRequest.newBuilder().setContainerId("nope").setData(ByteString.copyFromUtf8("x")).build(),
                "PauseContainer", PauseContainerRequest.newBuilder().setContainerId("nope").build(),
                "StatsContainer", StatsContainerRequest.newBuilder().setContainerId("nope").build(),
                "RemoveContainer", RemoveContainerRequest.newBuilder().setContainerId("nope").build());
        calls.forEach((method, request) ->
                assertStatus(agent.failure(method, request), StatusCode.NOT_FOUND, "container \"nope\" not found"));
    }

    @Test
    void aDuplicateContainerIdIsRefusedAndTheFirstKeepsWorking() throws Exception {
        agent.create("dup", Specs.busybox(agent.rootfs, "echo", "first").build());
        TtrpcException e = agent.failure("CreateContainer", CreateContainerRequest.newBuilder().setContainerId("dup")
                .setOCI(Specs.busybox(agent.rootfs, "echo", "second")).build());
        assertStatus(e, StatusCode.ALREADY_EXISTS, "container \"dup\" already exists");

        agent.call("StartContainer", StartContainerRequest.newBuilder().setContainerId("dup").build());
        assertThat(agent.readAll("ReadStdout", "dup", "")).isEqualTo("first\n");
        assertThat(agent.await("dup", "")).isZero();
    }

    @Test
    void execIntoAStoppedOrUnstartedContainerIsAFailedPrecondition() throws Exception {
        agent.createAndStart("done", Specs.busybox(agent.rootfs, "true").build());
        assertThat(agent.await("done", "")).isZero();
        assertStatus(agent.failure("ExecProcess", ExecProcessRequest.newBuilder().setContainerId("done").setExecId("late")
                .setProcess(Specs.process("true")).build()), StatusCode.FAILED_PRECONDITION, "container \"done\"", "stopped");

        agent.create("idle", Specs.busybox(agent.rootfs, "true").build());
        assertStatus(agent.failure("ExecProcess", ExecProcessRequest.newBuilder().setContainerId("idle").setExecId("early")
                .setProcess(Specs.process("true")).build()), StatusCode.FAILED_PRECONDITION, "container \"idle\"", "created");
    }

    @Test
    void aSpecWithoutProcessOrRootIsInvalid() throws Exception {
        Spec noProcess = Specs.busybox(agent.rootfs, "true").clearProcess().build();
        assertStatus(agent.failure("CreateContainer", CreateContainerRequest.newBuilder().setContainerId("np").setOCI(noProcess).build()),
                StatusCode.INVALID_ARGUMENT, "container \"np\"", "no process");
        assertStatus(agent.failure("CreateContainer", CreateContainerRequest.newBuilder().setContainerId("nospec").build()),
                StatusCode.INVALID_ARGUMENT, "container \"nospec\" has no OCI spec");
        Spec badRoot = Specs.busybox(agent.dir.resolve("no-such-rootfs"), "true").build();
        assertStatus(agent.failure("CreateContainer", CreateContainerRequest.newBuilder().setContainerId("nr").setOCI(badRoot).build()),
                StatusCode.INVALID_ARGUMENT, "no-such-rootfs", "is not a directory");
        assertStatus(agent.failure("CreateContainer", CreateContainerRequest.newBuilder().setContainerId("../escape")
                .setOCI(Specs.busybox(agent.rootfs, "true")).build()), StatusCode.INVALID_ARGUMENT, "invalid container id \"../escape\"");
        // None of them exists now.
        assertStatus(agent.failure("StartContainer", StartContainerRequest.newBuilder().setContainerId("np").build()),
                StatusCode.NOT_FOUND, "container \"np\" not found");
    }

    @Test
    void aCommandThatCannotRunFailsStartWithRuncsReason() throws Exception {
        agent.create("nocmd", Specs.busybox(agent.rootfs, "/no/such/binary").build());
        assertStatus(agent.failure("StartContainer", StartContainerRequest.newBuilder().setContainerId("nocmd").build()),
                StatusCode.INTERNAL, "cannot start container \"nocmd\"", "/no/such/binary");
        agent.call("RemoveContainer", RemoveContainerRequest.newBuilder().setContainerId("nocmd").build());
        agent.assertContainerGone("nocmd");
    }

    @Test
    void unknownExecIdIsNotFound() throws Exception {
        agent.createAndStart("ok", Specs.busybox(agent.rootfs, "sleep", "300").build());
        for (String method : new String[]{"ReadStdout", "ReadStderr"}) {
            assertStatus(agent.failure(method, ReadStreamRequest.newBuilder().setContainerId("ok").setExecId("ghost").setLen(10).build()),
                    StatusCode.NOT_FOUND, "process \"ghost\" of container \"ok\" not found");
        }
        assertStatus(agent.failure("WaitProcess", WaitProcessRequest.newBuilder().setContainerId("ok").setExecId("ghost").build()),
                StatusCode.NOT_FOUND, "process \"ghost\"");
        assertStatus(agent.failure("SignalProcess", SignalProcessRequest.newBuilder().setContainerId("ok").setExecId("ghost").setSignal(15).build()),
                StatusCode.NOT_FOUND, "process \"ghost\"");
        // A duplicate exec id.
        agent.exec("ok", "twice", Specs.process("sleep", "300"));
        assertStatus(agent.failure("ExecProcess", ExecProcessRequest.newBuilder().setContainerId("ok").setExecId("twice")
                .setProcess(Specs.process("true")).build()), StatusCode.ALREADY_EXISTS, "process \"twice\" of container \"ok\" already exists");
    }

    @Test
    void wrongArgumentsOfStreamAndSignalCalls() throws Exception {
        agent.createAndStart("args", Specs.busybox(agent.rootfs, "sleep", "300").build());
        assertStatus(agent.failure("ReadStdout", ReadStreamRequest.newBuilder().setContainerId("args").setLen(0).build()),
                StatusCode.INVALID_ARGUMENT, "len must be positive");
        assertStatus(agent.failure("SignalProcess", SignalProcessRequest.newBuilder().setContainerId("args").setSignal(99).build()),
                StatusCode.INVALID_ARGUMENT, "99 is not a signal number");
        assertStatus(agent.failure("TtyWinResize", TtyWinResizeRequest.newBuilder().setContainerId("args").setRow(1).setColumn(1).build()),
                StatusCode.FAILED_PRECONDITION, "has no terminal");
        assertStatus(agent.failure("ListProcesses", ListProcessesRequest.newBuilder().setContainerId("args").setFormat("xml").build()),
                StatusCode.INVALID_ARGUMENT, "unknown format \"xml\"");
        assertStatus(agent.failure("ResumeContainer", ResumeContainerRequest.newBuilder().setContainerId("args").build()),
                StatusCode.FAILED_PRECONDITION, "is running, not paused");
        agent.call("SignalProcess", SignalProcessRequest.newBuilder().setContainerId("args").setSignal(9).build());
        agent.await("args", "");
        assertStatus(agent.failure("PauseContainer", PauseContainerRequest.newBuilder().setContainerId("args").build()),
                StatusCode.FAILED_PRECONDITION, "is stopped, not running");
        assertStatus(agent.failure("StatsContainer", StatsContainerRequest.newBuilder().setContainerId("args").build()),
                StatusCode.FAILED_PRECONDITION, "is stopped");
    }

    /**
     * ttrpc frames carry at most 4 MiB, the request envelope included: a 4 MiB payload cannot be
     * sent at all (our client refuses it before sending, RESOURCE_EXHAUSTED), a raw 4 MiB+ frame is
     * answered RESOURCE_EXHAUSTED by the agent, and anything that fits is written whole.
     */
    @Test
    void fourMibOfStdinIsRefusedByTheFrameLimitAndWhatFitsArrivesWhole() throws Exception {
        agent.createAndStart("big", Specs.busybox(agent.rootfs, "wc", "-c").build());

        byte[] fourMib = new byte[4 << 20];
        assertStatus(agent.failure("WriteStdin", WriteStreamRequest.newBuilder().setContainerId("big").setExecId("big")
                .setData(ByteString.copyFrom(fourMib)).build()), StatusCode.RESOURCE_EXHAUSTED, "exceeds the maximum message size");

        Response raw = sendRawOversizedFrame();
        assertThat(StatusCode.fromNumber(raw.getStatus().getCode())).isEqualTo(StatusCode.RESOURCE_EXHAUSTED);
        assertThat(raw.getStatus().getMessage()).contains("exceeds the maximum message size");

        byte[] almost = new byte[(4 << 20) - 1024];
        Arrays.fill(almost, (byte) 'x');
        assertThat(agent.write("big", "big", almost)).isEqualTo(almost.length);
        agent.write("big", "big", new byte[0]); // empty data = end of stdin, as upstream
        assertThat(agent.readAll("ReadStdout", "big", "big").strip()).isEqualTo(Integer.toString(almost.length));
        assertThat(agent.await("big", "big")).isZero();
    }

    private Response sendRawOversizedFrame() throws Exception {
        try (SocketChannel channel = SocketChannel.open(UnixDomainSocketAddress.of(agent.socket))) {
            Request request = Request.newBuilder().setService(AgentFixture.SERVICE).setMethod("WriteStdin")
                    .setPayload(WriteStreamRequest.newBuilder().setContainerId("big")
                            .setData(ByteString.copyFrom(new byte[4 << 20])).build().toByteString())
                    .build();
            byte[] body = request.toByteArray();
            ByteBuffer header = ByteBuffer.allocate(10).putInt(body.length).putInt(1).put((byte) 1).put((byte) 0).flip();
            channel.write(new ByteBuffer[]{header, ByteBuffer.wrap(body)});
            ByteBuffer replyHeader = ByteBuffer.allocate(10);
            while (replyHeader.hasRemaining() && channel.read(replyHeader) >= 0) {
                // reading the header
            }
            replyHeader.flip();
            int length = replyHeader.getInt();
            assertThat(replyHeader.getInt()).as("stream id").isEqualTo(1);
            assertThat(replyHeader.get()).as("frame type").isEqualTo((byte) 2);
            ByteBuffer reply = ByteBuffer.allocate(length);
            while (reply.hasRemaining() && channel.read(reply) >= 0) {
                // reading the body
            }
            return Response.parseFrom(reply.flip());
        }
    }

    @Test
    void aClientThatDisconnectsDuringReadStdoutLosesNothingForTheNext() throws Exception {
        agent.createAndStart("rd", Specs.busybox(agent.rootfs, "sh", "-c", "read x; echo after-$x").build());
        TtrpcClient impatient = agent.connect();
        CompletableFuture<ReadStreamResponse> pending = impatient.call(AgentFixture.SERVICE, "ReadStdout",
                ReadStreamRequest.newBuilder().setContainerId("rd").setLen(1024).build(), ReadStreamResponse.parser(), CallOptions.DEFAULT);
        await().atMost(Duration.ofSeconds(5)).until(() -> inFlight() >= 1);
        impatient.close();
        await().atMost(Duration.ofSeconds(5)).until(() -> inFlight() == 0);
        assertThat(pending).isCompletedExceptionally();

        agent.write("rd", "rd", "1\n".getBytes(StandardCharsets.UTF_8));
        assertThat(agent.readAll("ReadStdout", "rd", "rd")).isEqualTo("after-1\n");
        assertThat(agent.await("rd", "rd")).isZero();
    }

    private static int inFlight() {
        return agent.agent.inFlightCalls();
    }

    @Test
    void everyUnimplementedRpcSaysWhichItIs() {
        for (String method : AgentServiceDefinition.UNIMPLEMENTED) {
            assertStatus(agent.failure(method, Empty.getDefaultInstance()), StatusCode.UNIMPLEMENTED,
                    "grpc.AgentService/" + method + " is not implemented by this agent");
        }
    }

    @Test
    void hostModeRefusesWhatWouldChangeTheHost() {
        assertStatus(agent.failure("SetGuestDateTime", SetGuestDateTimeRequest.newBuilder().setSec(1).build()),
                StatusCode.FAILED_PRECONDITION, "grpc.AgentService/SetGuestDateTime is refused", "host mode");
        assertStatus(agent.failure("OnlineCPUMem", OnlineCPUMemRequest.newBuilder().setNbCpus(1).build()),
                StatusCode.FAILED_PRECONDITION, "grpc.AgentService/OnlineCPUMem is refused", "host mode");
        assertStatus(agent.failure("CreateSandbox", CreateSandboxRequest.newBuilder().setSandboxId("sb")
                        .addKernelModules(KernelModule.newBuilder().setName("dummy")).build()),
                StatusCode.FAILED_PRECONDITION, "kernel modules is refused in host mode");
    }
}
