package dev.katashim.shim.task;

import com.google.protobuf.Any;
import com.google.protobuf.Empty;
import dev.katashim.metrics.ShimMetrics;
import dev.katashim.agent.client.AgentClient;
import dev.katashim.protocols.containerd.task.v2.CheckpointTaskRequest;
import dev.katashim.protocols.containerd.task.v2.CloseIORequest;
import dev.katashim.protocols.containerd.task.v2.ConnectRequest;
import dev.katashim.protocols.containerd.task.v2.ConnectResponse;
import dev.katashim.protocols.containerd.task.v2.CreateTaskRequest;
import dev.katashim.protocols.containerd.task.v2.CreateTaskResponse;
import dev.katashim.protocols.containerd.task.v2.DeleteRequest;
import dev.katashim.protocols.containerd.task.v2.DeleteResponse;
import dev.katashim.protocols.containerd.task.v2.ExecProcessRequest;
import dev.katashim.protocols.containerd.task.v2.KillRequest;
import dev.katashim.protocols.containerd.task.v2.PauseRequest;
import dev.katashim.protocols.containerd.task.v2.PidsRequest;
import dev.katashim.protocols.containerd.task.v2.PidsResponse;
import dev.katashim.protocols.containerd.task.v2.ResizePtyRequest;
import dev.katashim.protocols.containerd.task.v2.ResumeRequest;
import dev.katashim.protocols.containerd.task.v2.ShutdownRequest;
import dev.katashim.protocols.containerd.task.v2.StartRequest;
import dev.katashim.protocols.containerd.task.v2.StartResponse;
import dev.katashim.protocols.containerd.task.v2.StateRequest;
import dev.katashim.protocols.containerd.task.v2.StateResponse;
import dev.katashim.protocols.containerd.task.v2.StatsRequest;
import dev.katashim.protocols.containerd.task.v2.StatsResponse;
import dev.katashim.protocols.containerd.task.v2.UpdateTaskRequest;
import dev.katashim.protocols.containerd.task.v2.WaitRequest;
import dev.katashim.protocols.containerd.task.v2.WaitResponse;
import dev.katashim.protocols.containerd.types.task.ProcessInfo;
import dev.katashim.protocols.containerd.types.task.Status;
import dev.katashim.protocols.kata.agent.CreateContainerRequest;
import dev.katashim.protocols.kata.agent.PauseContainerRequest;
import dev.katashim.protocols.kata.agent.RemoveContainerRequest;
import dev.katashim.protocols.kata.agent.ResumeContainerRequest;
import dev.katashim.protocols.kata.agent.SignalProcessRequest;
import dev.katashim.protocols.kata.agent.Spec;
import dev.katashim.protocols.kata.agent.StartContainerRequest;
import dev.katashim.protocols.kata.agent.TtyWinResizeRequest;
import dev.katashim.protocols.kata.agent.WaitProcessRequest;
import dev.katashim.shim.config.ConfigException;
import dev.katashim.shim.config.KataConfig;
import dev.katashim.shim.config.KataConfigLoader;
import dev.katashim.shim.config.RuntimeOptions;
import dev.katashim.shim.events.TaskEvents;
import dev.katashim.shim.io.IoContext;
import dev.katashim.shim.io.ProcessIo;
import dev.katashim.shim.io.StdioSpec;
import dev.katashim.shim.oci.Bundle;
import dev.katashim.shim.oci.ContainerType;
import dev.katashim.shim.oci.OciJsonToAgentSpec;
import dev.katashim.shim.sandbox.Hypervisor;
import dev.katashim.shim.sandbox.Hypervisors;
import dev.katashim.shim.sandbox.Sandbox;
import dev.katashim.shim.sandbox.SandboxDirectory;
import dev.katashim.ttrpc.server.CallContext;
import dev.katashim.ttrpc.server.ServiceDefinition;
import dev.katashim.ttrpc.status.StatusCode;
import dev.katashim.ttrpc.status.TtrpcException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.locks.ReentrantLock;
import java.util.regex.Pattern;

/**
 * {@code containerd.task.v2.Task}: the one place that maps each RPC onto the sandbox's containers
 * and processes, following upstream Kata's Go shim (see reference/kata-go-shim-behaviour.md).
 * One lock serializes the RPCs that change state, as upstream's service mutex does; Wait, State,
 * Pids, Connect and Stats do not block behind a slow Create.
 */
public final class TaskService {
    private static final Logger log = LoggerFactory.getLogger(TaskService.class);
    public static final String NAME = "containerd.task.v2.Task";
    private static final Pattern VALID_ID = Pattern.compile("^[a-zA-Z0-9][a-zA-Z0-9_.-]+$");
    private static final int SIGKILL = 9;
    private static final int SIGTERM = 15;

    private final ShimConfig config;
    private final String namespace;
    private final TaskEvents events;
    private final ShimMetrics metrics;
    private final Runnable exitShim;
    private final ReentrantLock lock = new ReentrantLock();
    private final Map<String, Container> containers = new LinkedHashMap<>();
    private volatile Sandbox sandbox;
    /** A sandbox booting since the shim started, before containerd's Create asked for it. */
    private volatile PrestartedSandbox prestarted;

    private record PrestartedSandbox(String id, Optional<Path> configPath, java.util.concurrent.CompletableFuture<Sandbox> booting) {
    }

    public TaskService(ShimConfig config, String namespace, TaskEvents events, ShimMetrics metrics, Runnable exitShim) {
        this.config = config;
        this.namespace = namespace;
        this.events = events;
        this.metrics = metrics;
        this.exitShim = exitShim;
    }

    public ServiceDefinition definition() {
        return ServiceDefinition.builder(NAME)
                .unary("State", StateRequest.parser(), this::state)
                .unary("Create", CreateTaskRequest.parser(), this::create)
                .unary("Start", StartRequest.parser(), this::start)
                .unary("Delete", DeleteRequest.parser(), this::delete)
                .unary("Pids", PidsRequest.parser(), this::pids)
                .unary("Pause", PauseRequest.parser(), this::pause)
                .unary("Resume", ResumeRequest.parser(), this::resume)
                .unary("Checkpoint", CheckpointTaskRequest.parser(), this::checkpoint)
                .unary("Kill", KillRequest.parser(), this::kill)
                .unary("Exec", ExecProcessRequest.parser(), this::exec)
                .unary("ResizePty", ResizePtyRequest.parser(), this::resizePty)
                .unary("CloseIO", CloseIORequest.parser(), this::closeIo)
                .unary("Update", UpdateTaskRequest.parser(), this::update)
                .unary("Wait", WaitRequest.parser(), this::await)
                .unary("Stats", StatsRequest.parser(), this::stats)
                .unary("Connect", ConnectRequest.parser(), this::connect)
                .unary("Shutdown", ShutdownRequest.parser(), this::shutdown)
                .build();
    }

    /**
     * Starts booting the sandbox {@code sandboxId} now, in the background: containerd starts a shim
     * for a sandbox just before it sends the Create for it, so the VM (or host agent) boot overlaps
     * with the shim's own start-up. Create takes it over; Shutdown stops it if Create never comes.
     */
    public void prestart(String sandboxId, Optional<Path> configPath) {
        java.util.concurrent.CompletableFuture<Sandbox> booting = new java.util.concurrent.CompletableFuture<>();
        prestarted = new PrestartedSandbox(sandboxId, configPath, booting);
        Thread.ofVirtual().name("boot-" + sandboxId).start(() -> {
            try {
                booting.complete(boot(sandboxId, configPath));
            } catch (Throwable e) {
                booting.completeExceptionally(e);
            }
        });
    }

    /** Boots the sandbox the configuration file asks for (runtime option, KATA_CONF_FILE, defaults). */
    private Sandbox boot(String sandboxId, Optional<Path> configPath) throws java.io.IOException, InterruptedException {
        KataConfig kata;
        try {
            kata = KataConfigLoader.load(configPath);
        } catch (ConfigException e) {
            throw new TtrpcException(StatusCode.INVALID_ARGUMENT, e.getMessage());
        }
        Hypervisor hypervisor;
        try {
            hypervisor = Hypervisors.create(kata, config.agentCommand());
        } catch (ConfigException e) {
            throw new TtrpcException(StatusCode.INVALID_ARGUMENT, e.getMessage());
        }
        log.info("sandbox {}: configuration {}, hypervisor {}", sandboxId, kata.source(), hypervisor.kind());
        return Sandbox.boot(sandboxId, hypervisor, SandboxDirectory.of(config.sandboxRoot(), sandboxId),
                new Sandbox.Services(metrics, this::runningContainerIds), kata.agent().dialTimeout());
    }

    /** The containers whose processes run in the sandbox now (the pod-overhead sampler asks). */
    private java.util.Collection<String> runningContainerIds() {
        return locked(() -> containers.values().stream()
                .filter(c -> c.init.status == Status.RUNNING || c.init.status == Status.PAUSED)
                .map(c -> c.id).toList());
    }

    /** The prestarted sandbox if it is the one asked for (same configuration), else a freshly booted one. */
    private Sandbox takeOrBoot(String sandboxId, Optional<Path> configPath) throws Exception {
        PrestartedSandbox early = prestarted;
        prestarted = null;
        if (early != null) {
            if (early.id().equals(sandboxId) && (configPath.isEmpty() || configPath.equals(early.configPath()))) {
                try {
                    return early.booting().join();
                } catch (java.util.concurrent.CompletionException e) {
                    throw e.getCause() instanceof Exception cause ? cause : e;
                }
            }
            early.booting().thenAccept(Sandbox::destroy);
        }
        return boot(sandboxId, configPath);
    }

    /** Stops whatever this shim started (the process is exiting): the sandbox, or one still booting. */
    public void destroyAll() {
        PrestartedSandbox early = prestarted;
        if (early != null) {
            early.booting().thenAccept(Sandbox::destroy).exceptionally(t -> null).join();
        }
        Sandbox current = sandbox;
        if (current != null) {
            current.destroy();
        }
    }

    /** The sandbox, once the first container created it (for the management server and metrics). */
    public Sandbox sandbox() {
        return sandbox;
    }

    // ---- Create / Start / Delete ----------------------------------------------------------

    private CreateTaskResponse create(CreateTaskRequest request, CallContext ctx) throws Exception {
        String id = request.getId();
        if (!VALID_ID.matcher(id).matches()) {
            throw TtrpcException.of(StatusCode.INVALID_ARGUMENT, "invalid container id '%s': must match %s", id, VALID_ID.pattern());
        }
        Bundle bundle = Bundle.read(Path.of(request.getBundle()));
        ContainerType type = ContainerType.of(id, bundle.annotations());
        if (!bundle.process().isObject()) {
            throw TtrpcException.of(StatusCode.INVALID_ARGUMENT, "config.json of %s has no process", id);
        }
        StdioSpec stdio = new StdioSpec(request.getStdin(), request.getStdout(), request.getStderr(), request.getTerminal());
        lock.lock();
        try {
            if (containers.containsKey(id)) {
                throw TtrpcException.of(StatusCode.ALREADY_EXISTS, "container %s: already exists", id);
            }
            if (type.startsSandbox() && sandbox != null) {
                throw TtrpcException.of(StatusCode.ALREADY_EXISTS, "cannot create another sandbox in sandbox: %s", sandbox.id());
            }
            if (!type.startsSandbox() && sandbox == null) {
                throw TtrpcException.of(StatusCode.FAILED_PRECONDITION, "BUG: Cannot start the container, since the sandbox hasn't been created");
            }
            ProcessIo io = openIo(stdio, new IoContext(namespace, id));
            RootfsMounts rootfs = new RootfsMounts(bundle.path().resolve("rootfs"), request.getRootfsList());
            try {
                rootfs.mount();
            } catch (RuntimeException e) {
                io.close();
                throw e;
            }
            boolean startedSandbox = false;
            try {
                if (type.startsSandbox()) {
                    Optional<Path> configPath;
                    try {
                        configPath = RuntimeOptions.configPath(request.getOptions());
                    } catch (ConfigException e) {
                        throw new TtrpcException(StatusCode.INVALID_ARGUMENT, e.getMessage());
                    }
                    sandbox = takeOrBoot(type.sandboxId(), configPath);
                    startedSandbox = true;
                    sandbox.create(bundle.config().path("hostname").asText(id));
                    watchSandboxDeath(sandbox);
                }
                Spec spec = agentSpec(bundle, rootfs, sandbox.hypervisor(), id);
                try {
                    long begin = System.nanoTime();
                    sandbox.agent().createContainer(CreateContainerRequest.newBuilder()
                            .setContainerId(id).setExecId(id).setOCI(spec).build());
                    if (type.startsSandbox()) {
                        sandbox.recordStartPhase("container_create", System.nanoTime() - begin);
                    }
                } catch (Exception e) {
                    sandbox.hypervisor().unshareRootfs(id);
                    throw e;
                }
            } catch (Exception e) {
                io.close();
                rootfs.unmount();
                if (startedSandbox) {
                    sandbox.destroy();
                    sandbox = null;
                }
                throw e;
            }
            ShimProcess init = new ShimProcess(id, "", id, stdio, null);
            init.io = io;
            containers.put(id, new Container(id, bundle, type, init, rootfs));
            events.created(id, bundle.path().toString(), stdio, sandbox.pid());
            return CreateTaskResponse.newBuilder().setPid(sandbox.pid()).build();
        } finally {
            lock.unlock();
        }
    }

    /** config.json as the agent takes it, its root where the agent reaches it (the host path, or the guest's share). */
    private static Spec agentSpec(Bundle bundle, RootfsMounts rootfs, Hypervisor hypervisor, String id) throws java.io.IOException {
        Spec spec = OciJsonToAgentSpec.spec(bundle.config());
        Path hostRoot = rootfs.isEmpty() ? bundle.rootPath() : bundle.path().resolve("rootfs");
        Path root = hypervisor.shareRootfs(id, hostRoot);
        return spec.toBuilder().setRoot(spec.getRoot().toBuilder().setPath(root.toString())).build();
    }

    private StartResponse start(StartRequest request, CallContext ctx) throws Exception {
        lock.lock();
        try {
            ShimProcess process = process(request.getId(), request.getExecId());
            if (process.status != Status.CREATED) {
                throw TtrpcException.of(StatusCode.FAILED_PRECONDITION, "%s %s is %s, not created: it cannot be started again",
                        process.isInit() ? "container" : "exec", process.eventId(), process.status);
            }
            AgentClient agent = sandbox.agent();
            try {
                if (process.isInit()) {
                    long begin = System.nanoTime();
                    agent.startContainer(StartContainerRequest.newBuilder().setContainerId(process.containerId).build());
                    if (locked(() -> container(process.containerId)).type.startsSandbox()) {
                        sandbox.recordStartPhase("container_start", System.nanoTime() - begin);
                    }
                } else {
                    agent.execProcess(dev.katashim.protocols.kata.agent.ExecProcessRequest.newBuilder()
                            .setContainerId(process.containerId).setExecId(process.agentExecId).setProcess(process.spec).build());
                }
            } catch (Exception e) {
                process.io.close();
                process.status = Status.STOPPED;
                process.exit.complete(new Exit(Exit.UNKNOWN_STATUS, Instant.now()));
                throw e;
            }
            process.io.start(new AgentProcessStreams(agent, process.containerId, process.agentExecId));
            process.status = Status.RUNNING;
            if (process.isInit()) {
                events.started(process.containerId, sandbox.pid());
            } else {
                events.execStarted(process.containerId, process.execId, sandbox.pid());
            }
            Thread.ofVirtual().name("wait-" + process.eventId()).start(() -> awaitExit(process));
            return StartResponse.newBuilder().setPid(sandbox.pid()).build();
        } finally {
            lock.unlock();
        }
    }

    /** Per started process: all output copied, then the exit status, then the exit event. */
    private void awaitExit(ShimProcess process) {
        Sandbox current = sandbox;
        try {
            process.io.outputDone().join();
        } catch (RuntimeException e) {
            log.warn("output of {} ended with {}", process.eventId(), e.toString());
        }
        int status;
        try {
            status = current.agent().waitProcess(WaitProcessRequest.newBuilder()
                    .setContainerId(process.containerId).setExecId(process.agentExecId).build()).getStatus();
        } catch (Exception e) {
            log.warn("WaitProcess for {} failed: {}; reporting {}", process.eventId(), e.getMessage(), Exit.UNKNOWN_STATUS);
            status = Exit.UNKNOWN_STATUS;
        }
        recordExit(process, status);
        if (process.isInit()) {
            Container container;
            lock.lock();
            try {
                container = containers.get(process.containerId);
            } finally {
                lock.unlock();
            }
            if (container != null && container.type.startsSandbox()) {
                tearDownSandbox(current);
            }
        }
    }

    private void recordExit(ShimProcess process, int status) {
        Exit exit = new Exit(status, Instant.now());
        lock.lock();
        try {
            if (process.exit.isDone()) {
                return;
            }
            process.status = Status.STOPPED;
            process.exit.complete(exit);
            events.exited(process.containerId, process.eventId(), sandbox == null ? 0 : sandbox.pid(), status, exit.at());
        } finally {
            lock.unlock();
        }
        if (process.io != null) {
            process.io.close();
        }
    }

    /** The sandbox's own container ended: every other process is gone too, and so is the sandbox. */
    private void tearDownSandbox(Sandbox dying) {
        List<ShimProcess> running = new ArrayList<>();
        lock.lock();
        try {
            for (Container c : containers.values()) {
                running.add(c.init);
                running.addAll(c.execs.values());
            }
        } finally {
            lock.unlock();
        }
        dying.destroy();
        for (ShimProcess p : running) {
            if (p.status == Status.RUNNING || p.status == Status.PAUSED) {
                recordExit(p, Exit.UNKNOWN_STATUS);
            }
        }
    }

    /** The VMM or host agent died on its own: every running process exits 255, as upstream. */
    private void watchSandboxDeath(Sandbox watched) {
        watched.hypervisor().exited().thenRun(() -> {
            if (sandbox == watched) {
                log.warn("sandbox {}: hypervisor ({}) pid {} exited", watched.id(), watched.hypervisor().kind(), watched.pid());
                Thread.ofVirtual().start(() -> tearDownSandbox(watched));
            }
        });
    }

    private DeleteResponse delete(DeleteRequest request, CallContext ctx) throws Exception {
        lock.lock();
        try {
            Container container = container(request.getId());
            if (!request.getExecId().isEmpty()) {
                ShimProcess exec = exec(container, request.getExecId());
                if (exec.status == Status.RUNNING) {
                    throw TtrpcException.of(StatusCode.FAILED_PRECONDITION, "exec %s is still running", exec.execId);
                }
                container.execs.remove(exec.execId);
                exec.io.close();
                Exit exit = exec.exitOrNull();
                return deleteResponse(exit == null ? new Exit(Exit.UNKNOWN_STATUS, Instant.now()) : exit);
            }
            ShimProcess init = container.init;
            Sandbox current = sandbox;
            if (current != null && init.status != Status.STOPPED) {
                if (init.status == Status.RUNNING || init.status == Status.PAUSED) {
                    throw TtrpcException.of(StatusCode.FAILED_PRECONDITION, "container %s is %s: kill it before deleting it", container.id, init.status);
                }
                // created, never started: remove it from the agent (and the sandbox if it was the sandbox's)
                current.agent().removeContainer(RemoveContainerRequest.newBuilder().setContainerId(container.id).build());
            }
            if (current != null && init.status == Status.STOPPED && !container.type.startsSandbox()) {
                try {
                    current.agent().removeContainer(RemoveContainerRequest.newBuilder().setContainerId(container.id).build());
                } catch (TtrpcException e) {
                    log.debug("RemoveContainer {}: {}", container.id, e.getMessage());
                }
            }
            init.io.close();
            container.execs.values().forEach(e -> e.io.close());
            if (current != null) {
                current.hypervisor().unshareRootfs(container.id);
            }
            container.rootfs.unmount();
            containers.remove(container.id);
            if (container.type.startsSandbox() && current != null) {
                current.destroy();
            }
            Exit exit = init.exitOrNull();
            if (exit == null) {
                exit = new Exit(0, Instant.now());
            }
            events.deleted(container.id, current == null ? 0 : current.pid(), exit.status(), exit.at());
            return deleteResponse(exit).toBuilder().setPid(current == null ? 0 : current.pid()).build();
        } finally {
            lock.unlock();
        }
    }

    private static DeleteResponse deleteResponse(Exit exit) {
        return DeleteResponse.newBuilder().setExitStatus(exit.status()).setExitedAt(TaskEvents.timestamp(exit.at())).build();
    }

    // ---- Kill / Wait / State / Pids / Connect / Shutdown ------------------------------------

    private Empty kill(KillRequest request, CallContext ctx) throws Exception {
        ShimProcess process;
        lock.lock();
        try {
            process = process(request.getId(), request.getExecId());
            if (process.status == Status.STOPPED && (request.getSignal() == SIGKILL || request.getSignal() == SIGTERM)) {
                return Empty.getDefaultInstance(); // CRI's StopPodSandbox must be repeatable
            }
            if (!process.isInit() && process.status == Status.CREATED) {
                throw TtrpcException.of(StatusCode.NOT_FOUND, "exec %s has not started: not found", process.execId);
            }
            if (process.status == Status.STOPPED) {
                throw TtrpcException.of(StatusCode.NOT_FOUND, "process %s already exited: not found", process.eventId());
            }
        } finally {
            lock.unlock();
        }
        sandbox.agent().signalProcess(SignalProcessRequest.newBuilder().setContainerId(process.containerId)
                .setExecId(process.isInit() ? "" : process.agentExecId).setSignal(request.getSignal()).build());
        return Empty.getDefaultInstance();
    }

    private WaitResponse await(WaitRequest request, CallContext ctx) throws Exception {
        ShimProcess process;
        lock.lock();
        try {
            process = process(request.getId(), request.getExecId());
        } finally {
            lock.unlock();
        }
        Exit exit = process.exit.get();
        return WaitResponse.newBuilder().setExitStatus(exit.status()).setExitedAt(TaskEvents.timestamp(exit.at())).build();
    }

    private StateResponse state(StateRequest request, CallContext ctx) {
        lock.lock();
        try {
            Container container = container(request.getId());
            ShimProcess p = request.getExecId().isEmpty() ? container.init : exec(container, request.getExecId());
            StateResponse.Builder state = StateResponse.newBuilder()
                    .setId(p.eventId()).setExecId(p.execId).setBundle(container.bundle.path().toString())
                    .setPid(sandbox == null ? 0 : sandbox.pid()).setStatus(p.status)
                    .setStdin(p.stdio.stdin()).setStdout(p.stdio.stdout()).setStderr(p.stdio.stderr())
                    .setTerminal(p.stdio.terminal());
            Exit exit = p.exitOrNull();
            if (exit != null) {
                state.setExitStatus(exit.status()).setExitedAt(TaskEvents.timestamp(exit.at()));
            }
            return state.build();
        } finally {
            lock.unlock();
        }
    }

    private PidsResponse pids(PidsRequest request, CallContext ctx) {
        lock.lock();
        try {
            container(request.getId());
            Sandbox current = sandbox;
            PidsResponse.Builder pids = PidsResponse.newBuilder();
            if (current != null) {
                pids.addProcesses(ProcessInfo.newBuilder().setPid(current.pid()));
            }
            return pids.build();
        } finally {
            lock.unlock();
        }
    }

    private ConnectResponse connect(ConnectRequest request, CallContext ctx) {
        Sandbox current = sandbox;
        return ConnectResponse.newBuilder().setShimPid((int) ProcessHandle.current().pid())
                .setTaskPid(current == null ? 0 : current.pid()).build();
    }

    private Empty shutdown(ShutdownRequest request, CallContext ctx) {
        lock.lock();
        try {
            if (!containers.isEmpty() && !request.getNow()) {
                return Empty.getDefaultInstance(); // containers remain: keep serving them
            }
            PrestartedSandbox early = prestarted;
            prestarted = null;
            if (early != null) {
                early.booting().thenAccept(Sandbox::destroy).exceptionally(t -> null).join();
            }
            Sandbox current = sandbox;
            if (current != null) {
                current.destroy();
                sandbox = null;
            }
        } finally {
            lock.unlock();
        }
        exitShim.run();
        return Empty.getDefaultInstance();
    }

    // ---- Exec, IO, Pause/Resume, the rest ---------------------------------------------------

    private Empty exec(ExecProcessRequest request, CallContext ctx) {
        lock.lock();
        try {
            Container container = container(request.getId());
            if (container.execs.containsKey(request.getExecId())) {
                throw TtrpcException.of(StatusCode.ALREADY_EXISTS, "id %s: already exists", request.getExecId());
            }
            if (container.init.status != Status.RUNNING) {
                throw TtrpcException.of(StatusCode.FAILED_PRECONDITION, "container %s is %s: cannot exec into it", container.id, container.init.status);
            }
            if (!request.hasSpec()) {
                throw new TtrpcException(StatusCode.INVALID_ARGUMENT, "exec " + request.getExecId() + " has no process spec");
            }
            Any spec = request.getSpec();
            dev.katashim.protocols.kata.agent.Process process = OciJsonToAgentSpec.process(
                    Bundle.parseJson(spec.getValue().toByteArray(), "the process spec of exec " + request.getExecId()));
            if (process.getArgsCount() == 0) {
                throw new TtrpcException(StatusCode.INVALID_ARGUMENT, "Get an invalid spec type: exec " + request.getExecId() + " has no args");
            }
            StdioSpec stdio = new StdioSpec(request.getStdin(), request.getStdout(), request.getStderr(), request.getTerminal());
            ShimProcess exec = new ShimProcess(container.id, request.getExecId(),
                    UUID.randomUUID().toString(), stdio, process.toBuilder().setTerminal(request.getTerminal()).build());
            exec.io = openIo(stdio, new IoContext(namespace, container.id).forExec(request.getExecId()));
            container.execs.put(request.getExecId(), exec);
            events.execAdded(container.id, request.getExecId());
            return Empty.getDefaultInstance();
        } finally {
            lock.unlock();
        }
    }

    /** containerd's side of a process's stdio, opened at Create/Exec so that a bad path fails there, as upstream. */
    private static ProcessIo openIo(StdioSpec stdio, IoContext context) {
        try {
            return ProcessIo.open(stdio, context);
        } catch (IllegalArgumentException e) {
            throw new TtrpcException(StatusCode.INVALID_ARGUMENT, e.getMessage());
        } catch (java.io.IOException e) {
            throw new TtrpcException(StatusCode.INVALID_ARGUMENT, "cannot open the stdio of the process: " + e.getMessage());
        }
    }

    private Empty resizePty(ResizePtyRequest request, CallContext ctx) throws Exception {
        ShimProcess process = locked(() -> process(request.getId(), request.getExecId()));
        sandbox.agent().ttyWinResize(TtyWinResizeRequest.newBuilder().setContainerId(process.containerId)
                .setExecId(process.agentExecId).setRow(request.getHeight()).setColumn(request.getWidth()).build());
        return Empty.getDefaultInstance();
    }

    private Empty closeIo(CloseIORequest request, CallContext ctx) throws Exception {
        ShimProcess process = locked(() -> process(request.getId(), request.getExecId()));
        if (request.getStdin() && process.io != null) {
            process.io.closeStdin();
        }
        return Empty.getDefaultInstance();
    }

    private Empty pause(PauseRequest request, CallContext ctx) throws Exception {
        lock.lock();
        try {
            Container container = container(request.getId());
            container.init.status = Status.PAUSING;
            try {
                sandbox.agent().pauseContainer(PauseContainerRequest.newBuilder().setContainerId(container.id).build());
            } catch (Exception e) {
                container.init.status = Status.RUNNING;
                throw e;
            }
            container.init.status = Status.PAUSED;
            events.paused(container.id);
            return Empty.getDefaultInstance();
        } finally {
            lock.unlock();
        }
    }

    private Empty resume(ResumeRequest request, CallContext ctx) throws Exception {
        lock.lock();
        try {
            Container container = container(request.getId());
            sandbox.agent().resumeContainer(ResumeContainerRequest.newBuilder().setContainerId(container.id).build());
            container.init.status = Status.RUNNING;
            events.resumed(container.id);
            return Empty.getDefaultInstance();
        } finally {
            lock.unlock();
        }
    }

    private Empty checkpoint(CheckpointTaskRequest request, CallContext ctx) {
        throw new TtrpcException(StatusCode.UNIMPLEMENTED, "service Checkpoint: not implemented (a VM sandbox cannot be checkpointed by this shim)");
    }

    private Empty update(UpdateTaskRequest request, CallContext ctx) {
        throw new TtrpcException(StatusCode.UNIMPLEMENTED, "service Update: not implemented yet");
    }

    private StatsResponse stats(StatsRequest request, CallContext ctx) throws Exception {
        Container container = locked(() -> container(request.getId()));
        Sandbox current = sandbox;
        if (current == null || container.init.status == Status.STOPPED) {
            throw TtrpcException.of(StatusCode.FAILED_PRECONDITION, "container %s is not running: no stats", container.id);
        }
        var stats = current.agent().statsContainer(dev.katashim.protocols.kata.agent.StatsContainerRequest.newBuilder()
                .setContainerId(container.id).build());
        return StatsResponse.newBuilder().setStats(CgroupMetrics.pack(stats.getCgroupStats())).build();
    }

    // ---- lookups ---------------------------------------------------------------------------

    private Container container(String id) {
        Container container = containers.get(id);
        if (container == null) {
            throw TtrpcException.of(StatusCode.NOT_FOUND, "container does not exist %s: not found", id);
        }
        return container;
    }

    private static ShimProcess exec(Container container, String execId) {
        ShimProcess exec = container.execs.get(execId);
        if (exec == null) {
            throw TtrpcException.of(StatusCode.NOT_FOUND, "exec does not exist %s: not found", execId);
        }
        return exec;
    }

    private ShimProcess process(String id, String execId) {
        Container container = container(id);
        return execId.isEmpty() ? container.init : exec(container, execId);
    }

    private <T> T locked(java.util.function.Supplier<T> action) {
        lock.lock();
        try {
            return action.get();
        } finally {
            lock.unlock();
        }
    }
}
