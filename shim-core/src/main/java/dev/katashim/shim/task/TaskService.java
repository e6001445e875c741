package dev.katashim.shim.task;

import com.google.protobuf.Empty;
// the whole Task API: a request and a response type per RPC
import dev.katashim.protocols.containerd.task.v2.*;
import dev.katashim.protocols.containerd.types.task.ProcessInfo;
import dev.katashim.protocols.containerd.types.task.Status;
import dev.katashim.shim.events.TaskEvents;
import dev.katashim.shim.oci.ResourceUpdate;
import dev.katashim.shim.sandbox.Sandbox;
import dev.katashim.shim.sandbox.Sandboxes;
import dev.katashim.ttrpc.server.CallContext;
import dev.katashim.ttrpc.server.ServiceDefinition;
import dev.katashim.ttrpc.status.StatusCode;
import dev.katashim.ttrpc.status.TtrpcException;

import java.util.concurrent.Callable;
import java.util.concurrent.locks.ReentrantLock;

/**
 * {@code containerd.task.v2.Task} (and, with the same handlers, {@code containerd.task.v3.Task}, its
 * wire-identical successor containerd 2.x speaks), in the shape of containerd's runc shim: each RPC looks its
 * container or process up, delegates to it, publishes the event and answers. Semantics follow
 * upstream Kata's Go shim.
 *
 * <p>Concurrency. One lock serializes the RPCs that change what the shim holds (Create, Start,
 * Delete, Exec, Kill, Pause, Resume, Update, Shutdown), as upstream's service mutex does; Create holds it
 * across a sandbox's boot. State, Wait, Pids, Connect, Stats, ResizePty and CloseIO never take it:
 * they read the container registry and each process's own state, so they answer while a Create is
 * booting a VM. Wait blocks until its process exits; Stats and ResizePty wait for the agent only.
 * No background thread takes the lock: exits are recorded by each process's watcher, under that
 * process's monitor.
 */
public final class TaskService {
    public static final String NAME = "containerd.task.v2.Task";
    /** containerd 2.x's name for the same service, when start's reply declares version 3. */
    public static final String NAME_V3 = "containerd.task.v3.Task";

    private final Sandboxes sandboxes;
    private final String namespace;
    private final TaskEvents events;
    private final Runnable exitShim;
    private final ReentrantLock lock = new ReentrantLock();
    private final Containers containers = new Containers();
    private volatile Sandbox sandbox;
    /** Opened by the Sandbox API (containerd's shim sandboxer), which also decides when it ends. */
    private volatile boolean adopted;

    public TaskService(Sandboxes sandboxes, String namespace, TaskEvents events, Runnable exitShim) {
        this.sandboxes = sandboxes;
        this.namespace = namespace;
        this.events = events;
        this.exitShim = exitShim;
    }

    public ServiceDefinition definition() {
        return definition(NAME);
    }

    /** The Task service under {@code serviceName}: {@link #NAME} or {@link #NAME_V3}. */
    public ServiceDefinition definition(String serviceName) {
        return ServiceDefinition.builder(serviceName)
                .unary("State", StateRequest.parser(), this::state)
                .unary("Create", CreateTaskRequest.parser(), (r, c) -> locked(() -> create(r)))
                .unary("Start", StartRequest.parser(), (r, c) -> locked(() -> start(r)))
                .unary("Delete", DeleteRequest.parser(), (r, c) -> locked(() -> delete(r)))
                .unary("Pids", PidsRequest.parser(), this::pids)
                .unary("Pause", PauseRequest.parser(), (r, c) -> locked(() -> pause(r)))
                .unary("Resume", ResumeRequest.parser(), (r, c) -> locked(() -> resume(r)))
                .unary("Checkpoint", CheckpointTaskRequest.parser(), this::checkpoint)
                .unary("Kill", KillRequest.parser(), (r, c) -> locked(() -> kill(r)))
                .unary("Exec", ExecProcessRequest.parser(), (r, c) -> locked(() -> exec(r)))
                .unary("ResizePty", ResizePtyRequest.parser(), this::resizePty)
                .unary("CloseIO", CloseIORequest.parser(), this::closeIo)
                .unary("Update", UpdateTaskRequest.parser(), (r, c) -> locked(() -> update(r)))
                .unary("Wait", WaitRequest.parser(), this::await)
                .unary("Stats", StatsRequest.parser(), this::stats)
                .unary("Connect", ConnectRequest.parser(), this::connect)
                .unary("Shutdown", ShutdownRequest.parser(), (r, c) -> locked(() -> shutdown(r)))
                .build();
    }

    private CreateTaskResponse create(CreateTaskRequest request) throws Exception {
        NewTask task = NewTask.of(request);
        containers.requireAbsent(task.id());
        Sandbox target = task.type().startsSandbox() ? openSandbox(task) : requireSandbox();
        Container container;
        try {
            container = Container.create(task, target, namespace);
        } catch (Exception e) {
            if (task.type().startsSandbox()) {
                target.destroy();
            }
            throw e;
        }
        containers.add(container);
        events.created(task.id(), task.bundle().path().toString(), task.stdio(), target.pid());
        return CreateTaskResponse.newBuilder().setPid(target.pid()).build();
    }

    private Sandbox openSandbox(NewTask task) throws Exception {
        if (sandbox != null) {
            throw TtrpcException.of(StatusCode.ALREADY_EXISTS, "cannot create another sandbox in sandbox: %s", sandbox.id());
        }
        Sandbox opened = sandboxes.open(task.type().sandboxId(), task.configPath(), task.bundle());
        join(opened);
        return opened;
    }

    /**
     * A sandbox the Sandbox API opened (StartSandbox): the pod's containers run in it, and the
     * Task API's Shutdown no longer ends the shim (ShutdownSandbox does).
     */
    public void adopt(Sandbox opened) throws Exception {
        locked(() -> {
            if (sandbox != null) {
                throw TtrpcException.of(StatusCode.ALREADY_EXISTS, "cannot create another sandbox in sandbox: %s", sandbox.id());
            }
            adopted = true;
            join(opened);
            return null;
        });
    }

    private void join(Sandbox opened) {
        // when the sandbox ends (its container exited, or its hypervisor died), so does every process in it
        opened.ended().thenRun(() -> containers.aliveProcesses().forEach(p -> recordExit(p, Exit.UNKNOWN_STATUS)));
        sandbox = opened;
        OomWatch.start(opened, events);
    }

    private StartResponse start(StartRequest request) throws Exception {
        Container container = containers.get(request.getId());
        ShimProcess process = container.process(request.getExecId());
        Sandbox current = requireSandbox();
        process.start(current);
        if (process.isInit()) {
            events.started(process.containerId(), current.pid());
        } else {
            events.execStarted(process.containerId(), process.execId(), current.pid());
        }
        process.watchExit(current, status -> {
            recordExit(process, status);
            if (process.isInit() && container.ownsSandbox()) {
                current.destroy(); // the sandbox's own container ended: so does the sandbox
            }
        });
        return StartResponse.newBuilder().setPid(current.pid()).build();
    }

    private void recordExit(ShimProcess process, int status) {
        process.exited(status, exit -> events.exited(process.containerId(), process.eventId(), pid(), status, exit.at()));
    }

    private DeleteResponse delete(DeleteRequest request) throws Exception {
        Container container = containers.get(request.getId());
        if (!request.getExecId().isEmpty()) {
            return deleteResponse(container.deleteExec(request.getExecId()), 0);
        }
        Sandbox current = sandbox;
        Exit exit = container.delete(current);
        containers.remove(container.id());
        if (container.ownsSandbox() && current != null) {
            current.destroy();
        }
        events.deleted(container.id(), pid(), exit.status(), exit.at());
        return deleteResponse(exit, pid());
    }

    private static DeleteResponse deleteResponse(Exit exit, int pid) {
        return DeleteResponse.newBuilder().setExitStatus(exit.status()).setExitedAt(TaskEvents.timestamp(exit.at())).setPid(pid).build();
    }

    private Empty kill(KillRequest request) throws Exception {
        Container container = containers.get(request.getId());
        if (request.getAll() && request.getExecId().isEmpty()) {
            container.killAll(requireSandbox(), request.getSignal());
        } else {
            container.process(request.getExecId()).kill(requireSandbox(), request.getSignal());
        }
        return Empty.getDefaultInstance();
    }

    private WaitResponse await(WaitRequest request, CallContext ctx) {
        Exit exit = containers.get(request.getId()).process(request.getExecId()).awaitExit();
        return WaitResponse.newBuilder().setExitStatus(exit.status()).setExitedAt(TaskEvents.timestamp(exit.at())).build();
    }

    private StateResponse state(StateRequest request, CallContext ctx) {
        Container container = containers.get(request.getId());
        ShimProcess process = container.process(request.getExecId());
        ShimProcess.Snapshot now = process.snapshot();
        StateResponse.Builder state = StateResponse.newBuilder()
                .setId(process.eventId()).setExecId(process.execId()).setBundle(container.bundle().path().toString())
                .setPid(pid()).setStatus(now.status())
                .setStdin(process.stdio().stdin()).setStdout(process.stdio().stdout()).setStderr(process.stdio().stderr())
                .setTerminal(process.stdio().terminal());
        now.exit().ifPresent(exit -> state.setExitStatus(exit.status()).setExitedAt(TaskEvents.timestamp(exit.at())));
        return state.build();
    }

    private PidsResponse pids(PidsRequest request, CallContext ctx) {
        containers.get(request.getId());
        PidsResponse.Builder pids = PidsResponse.newBuilder();
        if (sandbox != null) {
            pids.addProcesses(ProcessInfo.newBuilder().setPid(pid()));
        }
        return pids.build();
    }

    private ConnectResponse connect(ConnectRequest request, CallContext ctx) {
        return ConnectResponse.newBuilder().setShimPid((int) ProcessHandle.current().pid()).setTaskPid(pid()).build();
    }

    private Empty shutdown(ShutdownRequest request) {
        if ((!containers.isEmpty() || adopted) && !request.getNow()) {
            return Empty.getDefaultInstance(); // containers remain, or the Sandbox API owns the sandbox: keep serving
        }
        sandboxes.shutdown();
        sandbox = null;
        exitShim.run();
        return Empty.getDefaultInstance();
    }

    private Empty exec(ExecProcessRequest request) {
        Container container = containers.get(request.getId());
        ShimProcess exec = container.addExec(request.getExecId(), ExecSpec.stdio(request), ExecSpec.process(request), namespace);
        events.execAdded(container.id(), exec.execId());
        return Empty.getDefaultInstance();
    }

    private Empty resizePty(ResizePtyRequest request, CallContext ctx) throws Exception {
        ShimProcess process = containers.get(request.getId()).process(request.getExecId());
        process.resizePty(requireSandbox(), request.getHeight(), request.getWidth());
        return Empty.getDefaultInstance();
    }

    private Empty closeIo(CloseIORequest request, CallContext ctx) throws Exception {
        ShimProcess process = containers.get(request.getId()).process(request.getExecId());
        if (request.getStdin()) {
            process.closeStdin();
        }
        return Empty.getDefaultInstance();
    }

    private Empty pause(PauseRequest request) throws Exception {
        Container container = containers.get(request.getId());
        container.init().pause(requireSandbox());
        events.paused(container.id());
        return Empty.getDefaultInstance();
    }

    private Empty resume(ResumeRequest request) throws Exception {
        Container container = containers.get(request.getId());
        container.init().resume(requireSandbox());
        events.resumed(container.id());
        return Empty.getDefaultInstance();
    }

    private Empty checkpoint(CheckpointTaskRequest request, CallContext ctx) {
        throw new TtrpcException(StatusCode.UNIMPLEMENTED, "service Checkpoint: not implemented (a VM sandbox cannot be checkpointed by this shim)");
    }

    private Empty update(UpdateTaskRequest request) throws Exception {
        containers.get(request.getId()).update(requireSandbox(), ResourceUpdate.of(request.getResources()));
        return Empty.getDefaultInstance();
    }

    private StatsResponse stats(StatsRequest request, CallContext ctx) throws Exception {
        Container container = containers.get(request.getId());
        Sandbox current = sandbox;
        if (current == null || container.init().status() == Status.STOPPED) {
            throw TtrpcException.of(StatusCode.FAILED_PRECONDITION, "container %s is not running: no stats", container.id());
        }
        return StatsResponse.newBuilder().setStats(CgroupMetrics.pack(current.statsContainer(container.id()))).build();
    }

    private Sandbox requireSandbox() {
        Sandbox current = sandbox;
        if (current == null) {
            throw TtrpcException.of(StatusCode.FAILED_PRECONDITION, "BUG: Cannot start the container, since the sandbox hasn't been created");
        }
        return current;
    }

    /** Every task of the sandbox reports the hypervisor's pid, as upstream; 0 without a sandbox. */
    private int pid() {
        Sandbox current = sandbox;
        return current == null ? 0 : current.pid();
    }

    private <T> T locked(Callable<T> rpc) throws Exception {
        lock.lock();
        try {
            return rpc.call();
        } finally {
            lock.unlock();
        }
    }
}
