package dev.katashim.it.shim;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.Empty;
import com.google.protobuf.UnknownFieldSet;
import dev.katashim.it.peers.SandboxApiClient;
import dev.katashim.it.peers.TaskApiClient;
import dev.katashim.it.support.BusyboxRootfs;
import dev.katashim.it.support.Mounts;
import dev.katashim.it.support.TempDirs;
import dev.katashim.protocols.containerd.runtime.sandbox.v1.CreateSandboxRequest;
import dev.katashim.protocols.containerd.runtime.sandbox.v1.CreateSandboxResponse;
import dev.katashim.protocols.containerd.runtime.sandbox.v1.PingRequest;
import dev.katashim.protocols.containerd.runtime.sandbox.v1.PingResponse;
import dev.katashim.protocols.containerd.runtime.sandbox.v1.PlatformRequest;
import dev.katashim.protocols.containerd.runtime.sandbox.v1.PlatformResponse;
import dev.katashim.protocols.containerd.runtime.sandbox.v1.SandboxMetricsRequest;
import dev.katashim.protocols.containerd.runtime.sandbox.v1.SandboxMetricsResponse;
import dev.katashim.protocols.containerd.runtime.sandbox.v1.SandboxStatusRequest;
import dev.katashim.protocols.containerd.runtime.sandbox.v1.SandboxStatusResponse;
import dev.katashim.protocols.containerd.runtime.sandbox.v1.ShutdownSandboxRequest;
import dev.katashim.protocols.containerd.runtime.sandbox.v1.ShutdownSandboxResponse;
import dev.katashim.protocols.containerd.runtime.sandbox.v1.StartSandboxRequest;
import dev.katashim.protocols.containerd.runtime.sandbox.v1.StartSandboxResponse;
import dev.katashim.protocols.containerd.runtime.sandbox.v1.StopSandboxRequest;
import dev.katashim.protocols.containerd.runtime.sandbox.v1.StopSandboxResponse;
import dev.katashim.protocols.containerd.runtime.sandbox.v1.WaitSandboxRequest;
import dev.katashim.protocols.containerd.runtime.sandbox.v1.WaitSandboxResponse;
import dev.katashim.protocols.containerd.task.v2.ConnectResponse;
import dev.katashim.protocols.containerd.task.v2.CreateTaskRequest;
import dev.katashim.protocols.containerd.task.v2.CreateTaskResponse;
import dev.katashim.protocols.containerd.task.v2.DeleteRequest;
import dev.katashim.protocols.containerd.task.v2.DeleteResponse;
import dev.katashim.protocols.containerd.task.v2.ShutdownRequest;
import dev.katashim.protocols.containerd.task.v2.StartRequest;
import dev.katashim.protocols.containerd.task.v2.WaitRequest;
import dev.katashim.protocols.containerd.task.v2.WaitResponse;
import dev.katashim.protocols.runtimeoptions.v1.Options;
import dev.katashim.ttrpc.status.StatusCode;
import dev.katashim.ttrpc.status.TtrpcException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Our real launcher and shim driven as containerd 2.2 and 2.3 drive them ({@link Containerd2Driver}
 * stands in for containerd 2.x; CI has only 1.6), in the no-VM sandbox: the ConfigPath of either
 * stdin form boots the sandbox (the environment's KATA_CONF_FILE names a configuration that cannot
 * boot, so a lost ConfigPath fails), containers run over task v3 or v2 as the reply declared, and
 * the Sandbox API runs a pod as the shim sandboxer does. Nothing is left afterwards.
 */
class Containerd2NoVmTest {
    private static final String NAMESPACE = "kt-cd2";
    /** Create waits for the host agent's JVM to answer: seconds, more on a loaded machine. */
    private static final Duration CALL_TIMEOUT = Duration.ofSeconds(90);
    private static Path dir;
    private static Path rootfs;
    private static Path sandboxRoot;
    private static Path socketDir;
    private static Any noVmOptions;
    private static Containerd2Driver containerd2;

    @BeforeAll
    static void setUp() throws Exception {
        dir = TempDirs.createShort("ktd");
        rootfs = BusyboxRootfs.create(dir.resolve("rootfs")).path();
        sandboxRoot = dir.resolve("sbs");
        socketDir = dir.resolve("s");
        noVmOptions = Any.newBuilder().setTypeUrl("runtimeoptions.v1.Options").setValue(Options.newBuilder()
                .setConfigPath(KataConfigs.noVm(dir).toString()).build().toByteString()).build();
        Path unbootable = KataConfigs.write(dir.resolve("unbootable.toml"), "[hypervisor.qemu]\npath = \"/nonexistent/qemu\"\n");
        containerd2 = new Containerd2Driver(dir.resolve("c.sock"), NAMESPACE, Map.of(
                "KATA_SHIM_SANDBOX_ROOT", sandboxRoot.toString(), "KATA_CONF_FILE", unbootable.toString()));
    }

    @AfterEach
    void endWhatATestLeft() {
        DriverLeftovers.killAll(dir);
        Mounts.unmountAllBelow(dir); // what a killed shim would have unmounted
    }

    @AfterAll
    static void tearDown() {
        if (dir != null) {
            TempDirs.deleteRecursively(dir);
        }
    }

    private static String uniqueId(String prefix) {
        return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    @Test
    void containerd23RunsAContainerOverTaskV3WithTheBootstrapsConfigPathAndLogLevel() throws Exception {
        String id = uniqueId("v23");
        Path bundle = OciBundles.create(dir.resolve(id), rootfs, Map.of(), "/bin/sh", "-c", "exit 7");
        Containerd2Driver.StartReply reply = containerd2.start(bundle, id, Containerd2Driver.Release.V2_3,
                Optional.of(noVmOptions), Optional.of(socketDir), true);
        assertThat(reply.version()).isEqualTo(3);
        assertThat(reply.protocol()).isEqualTo("ttrpc");
        assertThat(reply.socket().getParent()).isEqualTo(socketDir);

        try (TaskApiClient v3 = TaskApiClient.connect(reply.socket(), NAMESPACE, reply.version(), CALL_TIMEOUT);
             TaskApiClient v2 = TaskApiClient.connect(reply.socket(), NAMESPACE, 2, CALL_TIMEOUT)) {
            assertThat(v3.service()).isEqualTo("containerd.task.v3.Task");
            runToExit(v3, id, bundle, noVmOptions, 7);
            ConnectResponse viaV2 = v2.connect(id); // both names are served on the one socket
            assertThat(viaV2.getShimPid()).isPositive();
            delete(v3, id, 7);
            shutdown(v3, id);
        }
        assertThat(containerd2.delete(bundle, id).getExitStatus()).isEqualTo(137);
        DriverLeftovers.assertNone(dir, reply.socket(), sandboxRoot.resolve(id));
        // BootstrapParams' log level (debug) reached the shim's log (the bundle's `log`, a file without containerd)
        assertThat(Files.readString(bundle.resolve("log"))).contains(" DEBUG ");
    }

    @Test
    void containerd22RunsAContainerOverTaskV2WithTheOptionsAnysConfigPath() throws Exception {
        String id = uniqueId("v22");
        Path bundle = OciBundles.create(dir.resolve(id), rootfs, Map.of(), "/bin/sh", "-c", "exit 5");
        Containerd2Driver.StartReply reply = containerd2.start(bundle, id, Containerd2Driver.Release.V2_2,
                Optional.of(noVmOptions), Optional.empty(), false);
        assertThat(reply.version()).isEqualTo(2);
        assertThat(new String(reply.output())).startsWith("{\"version\":2,");
        try (TaskApiClient v2 = TaskApiClient.connect(reply.socket(), NAMESPACE, reply.version(), CALL_TIMEOUT)) {
            assertThat(v2.service()).isEqualTo("containerd.task.v2.Task");
            runToExit(v2, id, bundle, noVmOptions, 5);
            delete(v2, id, 5);
            shutdown(v2, id);
        }
        assertThat(containerd2.delete(bundle, id).getExitStatus()).isEqualTo(137);
        DriverLeftovers.assertNone(dir, reply.socket(), sandboxRoot.resolve(id));
        assertThat(Files.readString(bundle.resolve("log"))).doesNotContain(" DEBUG ");
    }

    @Test
    void theShimSandboxerRunsAPodThroughTheSandboxApi() throws Exception {
        String sandboxId = uniqueId("pod");
        // the shim sandboxer's bundle: no config.json (containerd writes none when the sandbox has no spec)
        Path sandboxBundle = Files.createDirectories(dir.resolve(sandboxId).resolve("bundle"));
        Containerd2Driver.StartReply reply = containerd2.start(sandboxBundle, sandboxId, Containerd2Driver.Release.V2_3,
                Optional.of(noVmOptions), Optional.of(socketDir), false);
        assertThat(reply.version()).isEqualTo(3);
        try (SandboxApiClient sandbox = SandboxApiClient.connect(reply.socket(), NAMESPACE);
             TaskApiClient tasks = TaskApiClient.connect(reply.socket(), NAMESPACE, reply.version(), CALL_TIMEOUT)) {
            sandbox.call("CreateSandbox", CreateSandboxRequest.newBuilder().setSandboxId(sandboxId)
                    .setBundlePath(sandboxBundle.toString()).setOptions(podSandboxConfig("kt-pod"))
                    .setNetnsPath("/var/run/netns/cni-none").build(), CreateSandboxResponse.parser());
            StartSandboxResponse started = sandbox.call("StartSandbox", StartSandboxRequest.newBuilder().setSandboxId(sandboxId).build(),
                    StartSandboxResponse.parser(), Duration.ofMinutes(2));
            assertThat(started.getPid()).isPositive();
            assertThat(started.getCreatedAt().getSeconds()).isPositive();
            PlatformResponse platform = sandbox.call("Platform", PlatformRequest.newBuilder().setSandboxId(sandboxId).build(),
                    PlatformResponse.parser());
            assertThat(platform.getPlatform().getOs()).isEqualTo("linux");
            assertThat(platform.getPlatform().getArchitecture()).isEqualTo("amd64");
            SandboxStatusResponse ready = status(sandbox, sandboxId);
            assertThat(ready.getState()).isEqualTo("SANDBOX_READY");
            assertThat(ready.getPid()).isEqualTo(started.getPid());
            sandbox.call("PingSandbox", PingRequest.newBuilder().setSandboxId(sandboxId).build(), PingResponse.parser());

            // a pod container on the sandbox's connection, as 2.3 does for version 3: no start, no Shutdown, no delete
            String app = uniqueId("app");
            Path appBundle = OciBundles.create(dir.resolve(app), rootfs, Map.of("io.kubernetes.cri.container-type", "container",
                    "io.kubernetes.cri.sandbox-id", sandboxId), "/bin/sh", "-c", "exit 3");
            CreateTaskResponse created = runToExit(tasks, app, appBundle, noVmOptions, 3);
            assertThat(created.getPid()).isEqualTo(started.getPid());
            delete(tasks, app, 3);
            assertThatThrownBy(() -> sandbox.call("SandboxMetrics", SandboxMetricsRequest.newBuilder().setSandboxId(sandboxId).build(),
                    SandboxMetricsResponse.parser())).isInstanceOfSatisfying(TtrpcException.class, e -> {
                        assertThat(e.code()).isEqualTo(StatusCode.UNIMPLEMENTED);
                        assertThat(e.getMessage()).contains("runs no container of its own");
                    });

            CompletableFuture<WaitSandboxResponse> waiting = CompletableFuture.supplyAsync(() -> {
                try {
                    return sandbox.call("WaitSandbox", WaitSandboxRequest.newBuilder().setSandboxId(sandboxId).build(),
                            WaitSandboxResponse.parser(), Duration.ofMinutes(2));
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            Thread.sleep(200);
            assertThat(waiting).as("WaitSandbox blocks while the sandbox runs").isNotDone();
            sandbox.call("StopSandbox", StopSandboxRequest.newBuilder().setSandboxId(sandboxId).setTimeoutSecs(10).build(),
                    StopSandboxResponse.parser(), Duration.ofMinutes(1));
            WaitSandboxResponse exit = waiting.get(60, TimeUnit.SECONDS);
            assertThat(exit.getExitStatus()).isZero();
            assertThat(exit.getExitedAt().getSeconds()).isPositive();
            SandboxStatusResponse stopped = status(sandbox, sandboxId);
            assertThat(stopped.getState()).isEqualTo("SANDBOX_NOTREADY");
            assertThat(stopped.getExitedAt()).isEqualTo(exit.getExitedAt());
            assertThat(sandboxRoot.resolve(sandboxId)).as("StopSandbox destroyed it").doesNotExist();
            shutdownSandbox(sandbox, sandboxId);
        }
        // containerd closes its connection, which runs delete
        assertThat(containerd2.delete(sandboxBundle, sandboxId).getExitStatus()).isEqualTo(137);
        DriverLeftovers.assertNone(dir, reply.socket(), sandboxRoot.resolve(sandboxId));
    }

    @Test
    void sandboxApiCallsForAnUnknownSandboxIdAreNotFound() throws Exception {
        String sandboxId = uniqueId("known");
        Path bundle = Files.createDirectories(dir.resolve(sandboxId).resolve("bundle"));
        Containerd2Driver.StartReply reply = containerd2.start(bundle, sandboxId, Containerd2Driver.Release.V2_3,
                Optional.of(noVmOptions), Optional.of(socketDir), false);
        try (SandboxApiClient sandbox = SandboxApiClient.connect(reply.socket(), NAMESPACE)) {
            sandbox.call("CreateSandbox", CreateSandboxRequest.newBuilder().setSandboxId(sandboxId).build(), CreateSandboxResponse.parser());
            for (String method : new String[]{"StartSandbox", "Platform", "SandboxStatus", "PingSandbox", "StopSandbox",
                    "WaitSandbox", "SandboxMetrics", "ShutdownSandbox"}) {
                assertThatThrownBy(() -> sandbox.call(method, unknown(method), Empty.parser()))
                        .as(method).isInstanceOfSatisfying(TtrpcException.class, e -> {
                            assertThat(e.code()).isEqualTo(StatusCode.NOT_FOUND);
                            assertThat(e.getMessage()).contains("sandbox ghost not found: this shim serves sandbox " + sandboxId);
                        });
            }
            assertThat(status(sandbox, sandboxId).getState()).isEqualTo("SANDBOX_NOTREADY"); // unharmed
            shutdownSandbox(sandbox, sandboxId);
        }
        containerd2.delete(bundle, sandboxId);
        DriverLeftovers.assertNone(dir, reply.socket(), sandboxRoot.resolve(sandboxId));
    }

    // ---- helpers ----------------------------------------------------------------------------

    private static com.google.protobuf.MessageLite unknown(String method) {
        return switch (method) {
            case "StartSandbox" -> StartSandboxRequest.newBuilder().setSandboxId("ghost").build();
            case "Platform" -> PlatformRequest.newBuilder().setSandboxId("ghost").build();
            case "SandboxStatus" -> SandboxStatusRequest.newBuilder().setSandboxId("ghost").build();
            case "PingSandbox" -> PingRequest.newBuilder().setSandboxId("ghost").build();
            case "StopSandbox" -> StopSandboxRequest.newBuilder().setSandboxId("ghost").build();
            case "WaitSandbox" -> WaitSandboxRequest.newBuilder().setSandboxId("ghost").build();
            case "SandboxMetrics" -> SandboxMetricsRequest.newBuilder().setSandboxId("ghost").build();
            default -> ShutdownSandboxRequest.newBuilder().setSandboxId("ghost").build();
        };
    }

    /** CRI's runtime.v1.PodSandboxConfig with only its hostname (field 2), as CreateSandbox's options. */
    static Any podSandboxConfig(String hostname) {
        UnknownFieldSet config = UnknownFieldSet.newBuilder().addField(2, UnknownFieldSet.Field.newBuilder()
                .addLengthDelimited(ByteString.copyFromUtf8(hostname)).build()).build();
        return Any.newBuilder().setTypeUrl("runtime.v1.PodSandboxConfig").setValue(config.toByteString()).build();
    }

    static SandboxStatusResponse status(SandboxApiClient sandbox, String id) throws InterruptedException {
        return sandbox.call("SandboxStatus", SandboxStatusRequest.newBuilder().setSandboxId(id).build(), SandboxStatusResponse.parser());
    }

    /** Create (with the runtime options again, as containerd sends them), Start, Wait: the exit status must be {@code status}. */
    static CreateTaskResponse runToExit(TaskApiClient tasks, String id, Path bundle, Any options, int status)
            throws InterruptedException {
        CreateTaskResponse created = tasks.call("Create", CreateTaskRequest.newBuilder().setId(id).setBundle(bundle.toString())
                .setOptions(options).build(), CreateTaskResponse.parser());
        assertThat(created.getPid()).isPositive();
        tasks.call("Start", StartRequest.newBuilder().setId(id).build(), dev.katashim.protocols.containerd.task.v2.StartResponse.parser());
        WaitResponse exit = tasks.call("Wait", WaitRequest.newBuilder().setId(id).build(), WaitResponse.parser());
        assertThat(exit.getExitStatus()).isEqualTo(status);
        return created;
    }

    static void delete(TaskApiClient tasks, String id, int status) throws InterruptedException {
        DeleteResponse deleted = tasks.call("Delete", DeleteRequest.newBuilder().setId(id).build(), DeleteResponse.parser());
        assertThat(deleted.getExitStatus()).isEqualTo(status);
    }

    static void shutdown(TaskApiClient tasks, String id) throws InterruptedException {
        try {
            tasks.call("Shutdown", ShutdownRequest.newBuilder().setId(id).build(), Empty.parser());
        } catch (TtrpcException closed) {
            // the shim may close the connection as it exits: containerd counts that as success
        }
    }

    static void shutdownSandbox(SandboxApiClient sandbox, String id) throws InterruptedException {
        try {
            sandbox.call("ShutdownSandbox", ShutdownSandboxRequest.newBuilder().setSandboxId(id).build(),
                    ShutdownSandboxResponse.parser());
        } catch (TtrpcException closed) {
            // as above
        }
    }
}
