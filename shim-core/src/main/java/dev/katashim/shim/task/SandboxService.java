package dev.katashim.shim.task;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.UnknownFieldSet;
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
import dev.katashim.protocols.containerd.types.Metric;
import dev.katashim.protocols.containerd.types.Platform;
import dev.katashim.protocols.kata.agent.CgroupStats;
import dev.katashim.shim.events.TaskEvents;
import dev.katashim.shim.oci.Bundle;
import dev.katashim.shim.sandbox.Sandbox;
import dev.katashim.shim.sandbox.Sandboxes;
import dev.katashim.ttrpc.server.CallContext;
import dev.katashim.ttrpc.server.ServiceDefinition;
import dev.katashim.ttrpc.status.StatusCode;
import dev.katashim.ttrpc.status.TtrpcException;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * {@code containerd.runtime.sandbox.v1.Sandbox}: what containerd 2.x calls when a CRI runtime sets
 * {@code sandboxer = "shim"}, mapped onto the sandbox lifecycle the Task service also uses. The pod
 * has no pause container then: CreateSandbox records the pod (its hostname from CRI's
 * PodSandboxConfig), StartSandbox opens the sandbox (taking over the boot begun when the shim
 * started, with the configuration {@code start} was given) and hands it to the Task service, whose
 * pod containers then run in it; StopSandbox destroys it, WaitSandbox blocks until it has ended,
 * ShutdownSandbox also ends the shim. Each RPC looks its sandbox up, delegates and answers; an id
 * other than the one this shim was started for is NOT_FOUND.
 */
public final class SandboxService {
    public static final String NAME = "containerd.runtime.sandbox.v1.Sandbox";
    /** What CRI reads in SandboxStatus.state (its PodSandboxState names). */
    static final String READY = "SANDBOX_READY";
    static final String NOT_READY = "SANDBOX_NOTREADY";
    private static final String POD_SANDBOX_CONFIG = "runtime.v1.PodSandboxConfig";
    private static final int POD_SANDBOX_CONFIG_HOSTNAME = 2;

    private final Sandboxes sandboxes;
    private final String shimSandboxId;
    private final Optional<Path> configPath;
    private final TaskService tasks;
    private final Runnable exitShim;
    private final ShimLock lock;
    private volatile ControlledSandbox current;

    /**
     * @param shimSandboxId the {@code -id} this shim was started for: the only sandbox it serves
     * @param configPath    the ConfigPath of the runtime options {@code start} was given
     */
    public SandboxService(Sandboxes sandboxes, String shimSandboxId, Optional<Path> configPath, TaskService tasks,
                          Runnable exitShim) {
        this.sandboxes = sandboxes;
        this.shimSandboxId = shimSandboxId;
        this.configPath = configPath;
        this.tasks = tasks;
        this.lock = tasks.lock();
        this.exitShim = exitShim;
    }

    public ServiceDefinition definition() {
        return ServiceDefinition.builder(NAME)
                .unary("CreateSandbox", CreateSandboxRequest.parser(), (r, c) -> locked(() -> create(r)))
                .unary("StartSandbox", StartSandboxRequest.parser(), (r, c) -> locked(() -> start(r)))
                .unary("Platform", PlatformRequest.parser(), this::platform)
                .unary("StopSandbox", StopSandboxRequest.parser(), (r, c) -> locked(() -> stop(r)))
                .unary("WaitSandbox", WaitSandboxRequest.parser(), this::await)
                .unary("SandboxStatus", SandboxStatusRequest.parser(), this::status)
                .unary("PingSandbox", PingRequest.parser(), this::ping)
                .unary("ShutdownSandbox", ShutdownSandboxRequest.parser(), (r, c) -> locked(() -> shutdown(r)))
                .unary("SandboxMetrics", SandboxMetricsRequest.parser(), this::metrics)
                .build();
    }

    /** What became of the pod's sandbox so far. */
    sealed interface State {
        record Created(Bundle bundle) implements State {
        }

        record Ready(Sandbox sandbox) implements State {
        }

        record Stopped(Exit exit) implements State {
        }
    }

    /** The one sandbox CreateSandbox recorded: its state, and its end for WaitSandbox. */
    private static final class ControlledSandbox {
        final String id;
        final Instant createdAt;
        final CompletableFuture<Exit> exited = new CompletableFuture<>();
        volatile State state;
        volatile boolean stopRequested;

        ControlledSandbox(String id, Instant createdAt, State state) {
            this.id = id;
            this.createdAt = createdAt;
            this.state = state;
        }

        /** Once: ended on request (status 0), or on its own (its hypervisor died: status unknown, as for tasks). */
        synchronized void ended() {
            if (state instanceof State.Stopped) {
                return;
            }
            Exit exit = new Exit(stopRequested ? 0 : Exit.UNKNOWN_STATUS, Instant.now());
            state = new State.Stopped(exit);
            exited.complete(exit);
        }
    }

    private CreateSandboxResponse create(CreateSandboxRequest request) {
        ControlledSandbox known = current;
        if (known != null) {
            throw TtrpcException.of(StatusCode.ALREADY_EXISTS, "sandbox %s already created in this shim", known.id);
        }
        if (!request.getSandboxId().equals(shimSandboxId)) {
            throw TtrpcException.of(StatusCode.INVALID_ARGUMENT, "CreateSandbox: this shim was started for sandbox '%s', not '%s'",
                    shimSandboxId, request.getSandboxId());
        }
        current = new ControlledSandbox(request.getSandboxId(), Instant.now(), new State.Created(podBundle(request)));
        return CreateSandboxResponse.getDefaultInstance();
    }

    private StartSandboxResponse start(StartSandboxRequest request) throws Exception {
        ControlledSandbox target = lookup(request.getSandboxId());
        if (!(target.state instanceof State.Created created)) {
            throw TtrpcException.of(StatusCode.FAILED_PRECONDITION, "sandbox %s is %s: only a created sandbox can be started",
                    target.id, describe(target.state));
        }
        Sandbox opened = sandboxes.open(target.id, configPath, created.bundle());
        try {
            tasks.adopt(opened);
        } catch (Exception e) {
            opened.destroy();
            throw e;
        }
        target.state = new State.Ready(opened);
        opened.ended().thenRun(target::ended);
        return StartSandboxResponse.newBuilder().setPid(opened.pid()).setCreatedAt(TaskEvents.timestamp(target.createdAt)).build();
    }

    private PlatformResponse platform(PlatformRequest request, CallContext ctx) {
        lookup(request.getSandboxId());
        return PlatformResponse.newBuilder().setPlatform(Platform.newBuilder().setOs("linux").setArchitecture(architecture())).build();
    }

    /** Stops the sandbox (a VM has nothing to stop gracefully once CRI stopped its containers: timeout_secs is not needed). */
    private StopSandboxResponse stop(StopSandboxRequest request) {
        ControlledSandbox target = lookup(request.getSandboxId());
        if (!(target.state instanceof State.Stopped)) {
            target.stopRequested = true;
            sandboxes.shutdown(); // the open sandbox, or the boot begun at start when it was never started
            target.ended();
        }
        return StopSandboxResponse.getDefaultInstance();
    }

    private WaitSandboxResponse await(WaitSandboxRequest request, CallContext ctx) throws InterruptedException {
        ControlledSandbox target = lookup(request.getSandboxId());
        Exit exit;
        try {
            exit = target.exited.get();
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause()); // never completed exceptionally
        }
        return WaitSandboxResponse.newBuilder().setExitStatus(exit.status()).setExitedAt(TaskEvents.timestamp(exit.at())).build();
    }

    private SandboxStatusResponse status(SandboxStatusRequest request, CallContext ctx) {
        ControlledSandbox target = lookup(request.getSandboxId());
        State state = target.state;
        SandboxStatusResponse.Builder status = SandboxStatusResponse.newBuilder().setSandboxId(target.id)
                .setCreatedAt(TaskEvents.timestamp(target.createdAt))
                .setState(state instanceof State.Ready ? READY : NOT_READY);
        switch (state) {
            case State.Ready ready -> status.setPid(ready.sandbox().pid());
            case State.Stopped stopped -> status.setExitedAt(TaskEvents.timestamp(stopped.exit().at()));
            case State.Created created -> {
            }
        }
        return status.build();
    }

    private PingResponse ping(PingRequest request, CallContext ctx) {
        ready(lookup(request.getSandboxId()));
        return PingResponse.getDefaultInstance();
    }

    /** Ends the sandbox and the shim; for this shim's own sandbox even when CreateSandbox failed (containerd cleans up so). */
    private ShutdownSandboxResponse shutdown(ShutdownSandboxRequest request) {
        if (!request.getSandboxId().equals(shimSandboxId)) {
            lookup(request.getSandboxId()); // NOT_FOUND
        }
        ControlledSandbox target = current;
        if (target != null) {
            target.stopRequested = true;
        }
        sandboxes.shutdown();
        if (target != null) {
            target.ended();
        }
        exitShim.run();
        return ShutdownSandboxResponse.getDefaultInstance();
    }

    /**
     * The stats of the sandbox's own container, as Stats answers them for it. A pod under the shim
     * sandboxer has none (no pause container): summing its containers' is not implemented.
     */
    private SandboxMetricsResponse metrics(SandboxMetricsRequest request, CallContext ctx) throws Exception {
        ControlledSandbox target = lookup(request.getSandboxId());
        Sandbox sandbox = ready(target);
        CgroupStats stats;
        try {
            stats = sandbox.statsContainer(target.id);
        } catch (TtrpcException e) {
            if (e.code() != StatusCode.NOT_FOUND) {
                throw e;
            }
            throw TtrpcException.of(StatusCode.UNIMPLEMENTED, "SandboxMetrics: sandbox %s runs no container of its own (the shim"
                    + " sandboxer starts no pause container), and summing its containers' stats is not implemented; use"
                    + " each container's Stats", target.id);
        }
        return SandboxMetricsResponse.newBuilder().setMetrics(Metric.newBuilder().setId(target.id)
                .setTimestamp(TaskEvents.timestamp(Instant.now())).setData(CgroupMetrics.pack(stats))).build();
    }

    private ControlledSandbox lookup(String sandboxId) {
        ControlledSandbox known = current;
        if (known == null || !known.id.equals(sandboxId)) {
            throw TtrpcException.of(StatusCode.NOT_FOUND, "sandbox %s not found: %s", sandboxId, known == null
                    ? "no sandbox was created in this shim (started for '" + shimSandboxId + "')"
                    : "this shim serves sandbox " + known.id);
        }
        return known;
    }

    private static Sandbox ready(ControlledSandbox target) {
        return switch (target.state) {
            case State.Ready ready -> ready.sandbox();
            case State.Created created ->
                    throw TtrpcException.of(StatusCode.FAILED_PRECONDITION, "sandbox %s is created but not started", target.id);
            case State.Stopped stopped -> throw TtrpcException.of(StatusCode.UNAVAILABLE, "sandbox %s has stopped", target.id);
        };
    }

    private static String describe(State state) {
        return switch (state) {
            case State.Created created -> "created";
            case State.Ready ready -> "already started";
            case State.Stopped stopped -> "stopped";
        };
    }

    /** The OCI architecture name of this host (the JVM says amd64 or aarch64). */
    static String architecture() {
        String arch = System.getProperty("os.arch");
        return switch (arch) {
            case "amd64", "x86_64" -> "amd64";
            case "aarch64" -> "arm64";
            default -> arch;
        };
    }

    /**
     * What the sandbox lifecycle reads of a pod (its hostname, annotations) as a bundle: the Sandbox
     * API brings no config.json of a sandbox container, only the pod's config.
     */
    private static Bundle podBundle(CreateSandboxRequest request) {
        com.fasterxml.jackson.databind.node.ObjectNode config = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode();
        String hostname = hostname(request.getOptions());
        if (!hostname.isEmpty()) {
            config.put("hostname", hostname); // else the sandbox's id, as for a sandbox container without one
        }
        com.fasterxml.jackson.databind.node.ObjectNode annotations = config.putObject("annotations");
        request.getAnnotationsMap().forEach(annotations::put);
        String path = request.getBundlePath().isEmpty() ? request.getSandboxId() : request.getBundlePath();
        return new Bundle(dev.katashim.shim.oci.HostPath.of(path, "bundle path"), config);
    }

    /** The hostname in CRI's PodSandboxConfig (field 2), read without its schema; empty when none came. */
    static String hostname(Any options) {
        String url = options.getTypeUrl();
        if (!url.equals(POD_SANDBOX_CONFIG) && !url.endsWith("/" + POD_SANDBOX_CONFIG)) {
            return "";
        }
        try {
            List<ByteString> values = UnknownFieldSet.parseFrom(options.getValue()).getField(POD_SANDBOX_CONFIG_HOSTNAME)
                    .getLengthDelimitedList();
            return values.isEmpty() ? "" : values.getLast().toStringUtf8();
        } catch (InvalidProtocolBufferException e) {
            throw TtrpcException.of(StatusCode.INVALID_ARGUMENT, "CreateSandbox: cannot decode the %s in options: %s",
                    POD_SANDBOX_CONFIG, e.getMessage());
        }
    }

    private <T> T locked(Callable<T> rpc) throws Exception {
        return lock.call(rpc);
    }
}
