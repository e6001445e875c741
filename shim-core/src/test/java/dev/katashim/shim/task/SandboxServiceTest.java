package dev.katashim.shim.task;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.MessageLite;
import com.google.protobuf.UnknownFieldSet;
import dev.katashim.protocols.containerd.runtime.sandbox.v1.CreateSandboxRequest;
import dev.katashim.protocols.containerd.runtime.sandbox.v1.PingRequest;
import dev.katashim.protocols.containerd.runtime.sandbox.v1.PlatformRequest;
import dev.katashim.protocols.containerd.runtime.sandbox.v1.PlatformResponse;
import dev.katashim.protocols.containerd.runtime.sandbox.v1.SandboxMetricsRequest;
import dev.katashim.protocols.containerd.runtime.sandbox.v1.SandboxMetricsResponse;
import dev.katashim.protocols.containerd.runtime.sandbox.v1.SandboxStatusRequest;
import dev.katashim.protocols.containerd.runtime.sandbox.v1.SandboxStatusResponse;
import dev.katashim.protocols.containerd.runtime.sandbox.v1.ShutdownSandboxRequest;
import dev.katashim.protocols.containerd.runtime.sandbox.v1.StartSandboxRequest;
import dev.katashim.protocols.containerd.runtime.sandbox.v1.StartSandboxResponse;
import dev.katashim.protocols.containerd.runtime.sandbox.v1.StopSandboxRequest;
import dev.katashim.protocols.containerd.runtime.sandbox.v1.WaitSandboxRequest;
import dev.katashim.protocols.containerd.runtime.sandbox.v1.WaitSandboxResponse;
import dev.katashim.protocols.containerd.task.v2.CreateTaskRequest;
import dev.katashim.protocols.containerd.task.v2.ShutdownRequest;
import dev.katashim.protocols.containerd.task.v2.StartRequest;
import dev.katashim.protocols.containerd.task.v2.StateRequest;
import dev.katashim.protocols.containerd.task.v2.StateResponse;
import dev.katashim.protocols.containerd.types.task.Status;
import dev.katashim.shim.events.TaskEvents;
import dev.katashim.ttrpc.server.CallContext;
import dev.katashim.ttrpc.server.MethodDefinition;
import dev.katashim.ttrpc.server.ServiceDefinition;
import dev.katashim.ttrpc.status.StatusCode;
import dev.katashim.ttrpc.status.TtrpcException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The Sandbox API against {@link FakeSandbox}, called as containerd 2.x's shim sandboxer calls it
 * (plugins/sandbox/controller.go): Create, Start, then the pod's containers through the Task
 * service, Wait, Status, Stop, Shutdown.
 */
class SandboxServiceTest {
    private static final String POD = "pod1";

    @TempDir
    Path dir;
    private final FakeSandbox sandbox = new FakeSandbox();
    private final AtomicBoolean shimExited = new AtomicBoolean();
    private ServiceDefinition sandboxApi;
    private ServiceDefinition taskApi;

    @BeforeEach
    void serve() {
        TaskService tasks = new TaskService(sandbox, "kt-unit", new TaskEvents((topic, event) -> {
        }), () -> shimExited.set(true));
        taskApi = tasks.definition(TaskService.NAME_V3);
        sandboxApi = new SandboxService(sandbox, POD, Optional.of(Path.of("/etc/kata.toml")), tasks, () -> shimExited.set(true))
                .definition();
    }

    @AfterEach
    void endProcesses() {
        sandbox.destroy();
    }

    @Test
    void aPodLivesCreatedStartedStoppedShutDown() throws Exception {
        call(sandboxApi, "CreateSandbox", CreateSandboxRequest.newBuilder().setSandboxId(POD).setOptions(podConfig("web-1")).build());
        assertThat(sandbox.calls).isEmpty();
        SandboxStatusResponse created = call(sandboxApi, "SandboxStatus", SandboxStatusRequest.newBuilder().setSandboxId(POD).build());
        assertThat(created.getState()).isEqualTo("SANDBOX_NOTREADY");

        StartSandboxResponse started = call(sandboxApi, "StartSandbox", StartSandboxRequest.newBuilder().setSandboxId(POD).build());
        assertThat(started.getPid()).isEqualTo(FakeSandbox.PID);
        assertThat(started.getCreatedAt().getSeconds()).isPositive();
        assertThat(sandbox.calls).containsExactly("open pod1 web-1");
        PlatformResponse platform = call(sandboxApi, "Platform", PlatformRequest.newBuilder().setSandboxId(POD).build());
        assertThat(platform.getPlatform().getOs()).isEqualTo("linux");
        assertThat(platform.getPlatform().getArchitecture()).isEqualTo(SandboxService.architecture()).isNotEqualTo("x86_64");
        SandboxStatusResponse ready = call(sandboxApi, "SandboxStatus", SandboxStatusRequest.newBuilder().setSandboxId(POD).build());
        assertThat(ready.getState()).isEqualTo("SANDBOX_READY");
        assertThat(ready.getPid()).isEqualTo(FakeSandbox.PID);
        assertThat(ready.getCreatedAt()).isEqualTo(started.getCreatedAt());
        call(sandboxApi, "PingSandbox", PingRequest.newBuilder().setSandboxId(POD).build());

        // a pod container joins the sandbox StartSandbox opened; the Task API's Shutdown no longer ends the shim
        createPodContainer("app");
        call(taskApi, "Start", StartRequest.newBuilder().setId("app").build());
        assertThat(sandbox.calls).contains("createContainer app", "startContainer app");
        call(taskApi, "Shutdown", ShutdownRequest.newBuilder().setId("app").build());
        assertThat(shimExited).isFalse();

        CompletableFuture<WaitSandboxResponse> waiting = CompletableFuture.supplyAsync(
                () -> callUnchecked(sandboxApi, "WaitSandbox", WaitSandboxRequest.newBuilder().setSandboxId(POD).build()));
        Thread.sleep(100);
        assertThat(waiting).isNotDone();
        call(sandboxApi, "StopSandbox", StopSandboxRequest.newBuilder().setSandboxId(POD).setTimeoutSecs(10).build());
        WaitSandboxResponse exit = waiting.get(30, TimeUnit.SECONDS);
        assertThat(exit.getExitStatus()).isZero();
        assertThat(exit.getExitedAt().getSeconds()).isPositive();
        assertThat(sandbox.shutDown).isTrue();
        SandboxStatusResponse stopped = call(sandboxApi, "SandboxStatus", SandboxStatusRequest.newBuilder().setSandboxId(POD).build());
        assertThat(stopped.getState()).isEqualTo("SANDBOX_NOTREADY");
        assertThat(stopped.getExitedAt()).isEqualTo(exit.getExitedAt());
        StateResponse app = call(taskApi, "State", StateRequest.newBuilder().setId("app").build());
        assertThat(app.getStatus()).isEqualTo(Status.STOPPED);
        assertStatus(() -> call(sandboxApi, "PingSandbox", PingRequest.newBuilder().setSandboxId(POD).build()),
                StatusCode.UNAVAILABLE, "sandbox pod1 has stopped");
        call(sandboxApi, "StopSandbox", StopSandboxRequest.newBuilder().setSandboxId(POD).build()); // again: nothing to do

        call(sandboxApi, "ShutdownSandbox", ShutdownSandboxRequest.newBuilder().setSandboxId(POD).build());
        assertThat(shimExited).isTrue();
    }

    @Test
    void aSandboxEndingOnItsOwnEndsItsWaitWithAnUnknownStatus() throws Exception {
        call(sandboxApi, "CreateSandbox", CreateSandboxRequest.newBuilder().setSandboxId(POD).build());
        call(sandboxApi, "StartSandbox", StartSandboxRequest.newBuilder().setSandboxId(POD).build());
        assertThat(sandbox.calls).containsExactly("open pod1 pod1"); // no PodSandboxConfig: the sandbox id as hostname
        sandbox.destroy(); // as when its hypervisor dies
        WaitSandboxResponse exit = call(sandboxApi, "WaitSandbox", WaitSandboxRequest.newBuilder().setSandboxId(POD).build());
        assertThat(exit.getExitStatus()).isEqualTo(255);
        assertThat(((SandboxStatusResponse) call(sandboxApi, "SandboxStatus", SandboxStatusRequest.newBuilder().setSandboxId(POD).build()))
                .getState()).isEqualTo("SANDBOX_NOTREADY");
    }

    @Test
    void unknownSandboxIdsAreNotFoundInEveryCall() throws Exception {
        Map<String, MessageLite> calls = Map.of(
                "StartSandbox", StartSandboxRequest.newBuilder().setSandboxId("ghost").build(),
                "Platform", PlatformRequest.newBuilder().setSandboxId("ghost").build(),
                "StopSandbox", StopSandboxRequest.newBuilder().setSandboxId("ghost").build(),
                "WaitSandbox", WaitSandboxRequest.newBuilder().setSandboxId("ghost").build(),
                "SandboxStatus", SandboxStatusRequest.newBuilder().setSandboxId("ghost").build(),
                "PingSandbox", PingRequest.newBuilder().setSandboxId("ghost").build(),
                "ShutdownSandbox", ShutdownSandboxRequest.newBuilder().setSandboxId("ghost").build(),
                "SandboxMetrics", SandboxMetricsRequest.newBuilder().setSandboxId("ghost").build());
        calls.forEach((method, request) -> assertStatus(() -> call(sandboxApi, method, request), StatusCode.NOT_FOUND,
                "sandbox ghost not found: no sandbox was created in this shim (started for 'pod1')"));
        call(sandboxApi, "CreateSandbox", CreateSandboxRequest.newBuilder().setSandboxId(POD).build());
        calls.forEach((method, request) -> assertStatus(() -> call(sandboxApi, method, request), StatusCode.NOT_FOUND,
                "sandbox ghost not found: this shim serves sandbox pod1"));
        assertThat(sandbox.calls).isEmpty();
        assertThat(shimExited).isFalse();
    }

    @Test
    void badRequestsGetClearStatuses() throws Exception {
        assertStatus(() -> call(sandboxApi, "CreateSandbox", CreateSandboxRequest.newBuilder().setSandboxId("other").build()),
                StatusCode.INVALID_ARGUMENT, "this shim was started for sandbox 'pod1', not 'other'");
        call(sandboxApi, "CreateSandbox", CreateSandboxRequest.newBuilder().setSandboxId(POD).build());
        assertStatus(() -> call(sandboxApi, "CreateSandbox", CreateSandboxRequest.newBuilder().setSandboxId(POD).build()),
                StatusCode.ALREADY_EXISTS, "sandbox pod1 already created");
        assertStatus(() -> call(sandboxApi, "PingSandbox", PingRequest.newBuilder().setSandboxId(POD).build()),
                StatusCode.FAILED_PRECONDITION, "created but not started");
        call(sandboxApi, "StartSandbox", StartSandboxRequest.newBuilder().setSandboxId(POD).build());
        assertStatus(() -> call(sandboxApi, "StartSandbox", StartSandboxRequest.newBuilder().setSandboxId(POD).build()),
                StatusCode.FAILED_PRECONDITION, "sandbox pod1 is already started");
        assertThat(sandbox.calls).containsExactly("open pod1 pod1");
    }

    @Test
    void shutdownOfTheShimsSandboxEndsTheShimEvenWhenCreateFailed() throws Exception {
        // containerd's cleanup after a failed CreateSandbox: ShutdownSandbox, then it closes the connection
        call(sandboxApi, "ShutdownSandbox", ShutdownSandboxRequest.newBuilder().setSandboxId(POD).build());
        assertThat(shimExited).isTrue();
        assertThat(sandbox.shutDown).isTrue();
    }

    @Test
    void metricsAreTheSandboxContainersOrAClearUnimplemented() throws Exception {
        call(sandboxApi, "CreateSandbox", CreateSandboxRequest.newBuilder().setSandboxId(POD).build());
        assertStatus(() -> call(sandboxApi, "SandboxMetrics", SandboxMetricsRequest.newBuilder().setSandboxId(POD).build()),
                StatusCode.FAILED_PRECONDITION, "not started");
        call(sandboxApi, "StartSandbox", StartSandboxRequest.newBuilder().setSandboxId(POD).build());
        SandboxMetricsResponse metrics = call(sandboxApi, "SandboxMetrics", SandboxMetricsRequest.newBuilder().setSandboxId(POD).build());
        assertThat(metrics.getMetrics().getId()).isEqualTo(POD);
        assertThat(metrics.getMetrics().getTimestamp().getSeconds()).isPositive();
        assertThat(metrics.getMetrics().getData().getTypeUrl()).matches("io\\.containerd\\.cgroups\\.v[12]\\.Metrics");
        assertThat(sandbox.calls).contains("statsContainer pod1");

        sandbox.refuse("statsContainer", StatusCode.NOT_FOUND, "container pod1 not found");
        assertStatus(() -> call(sandboxApi, "SandboxMetrics", SandboxMetricsRequest.newBuilder().setSandboxId(POD).build()),
                StatusCode.UNIMPLEMENTED, "sandbox pod1 runs no container of its own");
    }

    @Test
    void hostnameComesFromCrisPodSandboxConfig() {
        assertThat(SandboxService.hostname(podConfig("web-1"))).isEqualTo("web-1");
        assertThat(SandboxService.hostname(Any.newBuilder().setTypeUrl("type.googleapis.com/runtime.v1.PodSandboxConfig")
                .setValue(podConfig("h2").getValue()).build())).isEqualTo("h2");
        assertThat(SandboxService.hostname(Any.getDefaultInstance())).isEmpty();
        assertThatThrownBy(() -> SandboxService.hostname(Any.newBuilder().setTypeUrl("runtime.v1.PodSandboxConfig")
                .setValue(ByteString.copyFrom(new byte[]{0x12, 0x7f})).build()))
                .isInstanceOfSatisfying(TtrpcException.class, e -> assertThat(e.code()).isEqualTo(StatusCode.INVALID_ARGUMENT));
    }

    @Test
    void taskV3IsServedByTheV2HandlersAndTimedAsTheSameActions() {
        assertThat(taskApi.name()).isEqualTo("containerd.task.v3.Task");
        assertThat(taskApi.methods().keySet()).containsExactlyInAnyOrderElementsOf(
                new TaskService(sandbox, "kt", new TaskEvents((t, e) -> {
                }), () -> {
                }).definition().methods().keySet());
        assertThat(TaskActions.of("containerd.task.v3.Task", "ResizePty")).isEqualTo("resize_pty");
        assertThat(TaskActions.of("containerd.task.v2.Task", "Create")).isEqualTo("create");
        assertThat(TaskActions.of(SandboxService.NAME, "StopSandbox")).isNull();
        assertThat(TaskActions.of("containerd.task.v3.Task", "StopSandbox")).isNull();
    }

    // ---- helpers ----------------------------------------------------------------------------

    /** CRI's runtime.v1.PodSandboxConfig with only its hostname (field 2), as CreateSandbox's options. */
    private static Any podConfig(String hostname) {
        UnknownFieldSet config = UnknownFieldSet.newBuilder()
                .addField(2, UnknownFieldSet.Field.newBuilder().addLengthDelimited(ByteString.copyFromUtf8(hostname)).build())
                .build();
        return Any.newBuilder().setTypeUrl("runtime.v1.PodSandboxConfig").setValue(config.toByteString()).build();
    }

    private void createPodContainer(String id) throws Exception {
        Path bundle = Files.createDirectories(dir.resolve(id));
        Files.writeString(bundle.resolve("config.json"), "{\"process\":{\"args\":[\"/bin/sleep\",\"60\"]},\"root\":{\"path\":\"rootfs\"},"
                + "\"annotations\":{\"io.kubernetes.cri.container-type\":\"container\",\"io.kubernetes.cri.sandbox-id\":\"" + POD + "\"}}");
        call(taskApi, "Create", CreateTaskRequest.newBuilder().setId(id).setBundle(bundle.toString()).build());
    }

    @SuppressWarnings("unchecked")
    private static <T> T call(ServiceDefinition service, String method, MessageLite request) throws Exception {
        MethodDefinition<MessageLite, MessageLite> definition = (MethodDefinition<MessageLite, MessageLite>) service.methods().get(method);
        assertThat(definition).as(method).isNotNull();
        return (T) definition.handler().handle(request, new CallContext(service.name(), method, Map.of(), 0));
    }

    private static <T> T callUnchecked(ServiceDefinition service, String method, MessageLite request) {
        try {
            return call(service, method, request);
        } catch (Exception e) {
            throw new RuntimeException(e);
        }
    }

    private interface Rpc {
        Object run() throws Exception;
    }

    private static void assertStatus(Rpc rpc, StatusCode code, String message) {
        assertThatThrownBy(rpc::run).isInstanceOfSatisfying(TtrpcException.class, e -> {
            assertThat(e.code()).isEqualTo(code);
            assertThat(e.getMessage()).contains(message);
        });
    }
}
