package dev.katashim.shim.task;

import com.google.protobuf.Empty;
// the whole Task API: a request and a response type per RPC
import dev.katashim.protocols.containerd.task.v2.*;
import dev.katashim.protocols.containerd.types.task.ProcessInfo;
import dev.katashim.protocols.containerd.types.task.Status;
import dev.katashim.shim.events.TaskEvents;
import dev.katashim.shim.oci.Identifiers;
import dev.katashim.shim.oci.ResourceUpdate;
import dev.katashim.shim.sandbox.Sandbox;
import dev.katashim.shim.sandbox.Sandboxes;
import dev.katashim.ttrpc.server.CallContext;
import dev.katashim.ttrpc.server.ServiceDefinition;
import dev.katashim.ttrpc.status.StatusCode;
import dev.katashim.ttrpc.status.TtrpcException;

import java.util.concurrent.Callable;

/**
 * {@code containerd.task.v2.Task} (and, with the same handlers, {@code containerd.task.v3.Task}, its
 * wire-identical successor containerd 2.x speaks), in the shape of containerd's runc shim: each RPC looks its
 * container or process up, delegates to it, publishes the event and answers. Semantics follow
 * upstream Kata's Go shim.
 *
 * <p>Concurrency. One lock serializes the RPCs that change what the shim holds (Create, Start,
 * Delete, Exec, Kill, Pause, Resume, Update, Shutdown, and the Sandbox API's: {@link ShimLock}), as
 * upstream's service mutex does; Create holds it across a sandbox's boot. State, Wait, Pids, Connect, Stats, ResizePty and CloseIO never take it:
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
    private final ShimLock lock = new ShimLock();
    private final Containers containers = new Containers();
    private final SandboxSlot sandbox = new SandboxSlot();

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
                .unaryNonBlocking("State", StateRequest.parser(), this::state)
                .unary("Create", CreateTaskRequest.parser(), (r, c) -> locked(() -> create(r)))
                .unary("Start", StartRequest.parser(), (r, c) -> locked(() -> start(r)))
                .unary("Delete", DeleteRequest.parser(), (r, c) -> locked(() -> delete(r)))
                .unaryNonBlocking("Pids", PidsRequest.parser(), this::pids)
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
                .unaryNonBlocking("Connect", ConnectRequest.parser(), this::connect)
                .unary("Shutdown", ShutdownRequest.parser(), (r, c) -> locked(() -> shutdown(r)))
                .build();
    }

    private CreateTaskResponse create(CreateTaskRequest request) throws Exception {
        NewTask task = NewTask.of(request);
        containers.requireAbsent(task.id());
        Sandbox target = task.type().startsSandbox() ? openSandbox(task) : sandbox.require();
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
        sandbox.requireEmpty();
        return join(sandboxes.open(task.type().sandboxId(), task.configPath(), task.bundle()), false);
    }

    /**
     * A sandbox the Sandbox API opened (StartSandbox): the pod's containers run in it, and the
     * Task API's Shutdown no longer ends the shim (ShutdownSandbox does).
     */
    public void adopt(Sandbox opened) throws Exception {
        locked(() -> join(opened, true));
    }

    private Sandbox join(Sandbox opened, boolean byApi) {
        sandbox.fill(opened, byApi);
        // when the sandbox ends (its container exited, or its hypervisor died), so does every process in it
        opened.ended().thenRun(() -> containers.aliveProcesses().forEach(p -> recordExit(p, Exit.UNKNOWN_STATUS)));
        OomWatch.start(opened, events, containers::contains);
        return opened;
    }

    private StartResponse start(StartRequest request) throws Exception {
        Container container = containers.get(request.getId());
        ShimProcess process = container.process(request.getExecId());
        Sandbox current = sandbox.require();
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
        process.exited(status, exit -> events.exited(process.containerId(), process.eventId(), sandbox.pid(), status, exit.at()));
    }

    private DeleteResponse delete(DeleteRequest request) throws Exception {
        Container container = containers.get(request.getId());
        if (!request.getExecId().isEmpty()) {
            return TaskReplies.deleted(container.deleteExec(request.getExecId()), 0);
        }
        Sandbox current = sandbox.current();
        Exit exit = container.delete(current);
        containers.remove(container.id());
        if (container.ownsSandbox() && current != null) {
            current.destroy();
        }
        events.deleted(container.id(), sandbox.pid(), exit.status(), exit.at());
        return TaskReplies.deleted(exit, sandbox.pid());
    }

    private Empty kill(KillRequest request) throws Exception {
        Container container = containers.get(request.getId());
        if (request.getAll() && request.getExecId().isEmpty()) {
            container.killAll(sandbox.require(), request.getSignal());
        } else {
            container.process(request.getExecId()).kill(sandbox.require(), request.getSignal());
        }
        return Empty.getDefaultInstance();
    }

    private WaitResponse await(WaitRequest request, CallContext ctx) {
        return TaskReplies.exited(containers.get(request.getId()).process(request.getExecId()).awaitExit());
    }

    private StateResponse state(StateRequest request, CallContext ctx) {
        Container container = containers.get(request.getId());
        return TaskReplies.state(container, container.process(request.getExecId()), sandbox.pid());
    }

    private PidsResponse pids(PidsRequest request, CallContext ctx) {
        containers.get(request.getId());
        PidsResponse.Builder pids = PidsResponse.newBuilder();
        if (sandbox.current() != null) {
            pids.addProcesses(ProcessInfo.newBuilder().setPid(sandbox.pid()));
        }
        return pids.build();
    }

    private ConnectResponse connect(ConnectRequest request, CallContext ctx) {
        return ConnectResponse.newBuilder().setShimPid((int) ProcessHandle.current().pid()).setTaskPid(sandbox.pid()).build();
    }

    private Empty shutdown(ShutdownRequest request) {
        if ((!containers.isEmpty() || sandbox.openedByApi()) && !request.getNow()) {
            return Empty.getDefaultInstance(); // containers remain, or the Sandbox API owns the sandbox: keep serving
        }
        sandboxes.shutdown();
        sandbox.clear();
        exitShim.run();
        return Empty.getDefaultInstance();
    }

    private Empty exec(ExecProcessRequest request) {
        Container container = containers.get(request.getId());
        Identifiers.check("exec id", request.getExecId());
        ShimProcess exec = container.addExec(request.getExecId(), ExecSpec.stdio(request), ExecSpec.process(request), namespace);
        events.execAdded(container.id(), exec.execId());
        return Empty.getDefaultInstance();
    }

    private Empty resizePty(ResizePtyRequest request, CallContext ctx) throws Exception {
        ShimProcess process = containers.get(request.getId()).process(request.getExecId());
        process.resizePty(sandbox.require(), request.getHeight(), request.getWidth());
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
        container.init().pause(sandbox.require());
        events.paused(container.id());
        return Empty.getDefaultInstance();
    }

    private Empty resume(ResumeRequest request) throws Exception {
        Container container = containers.get(request.getId());
        container.init().resume(sandbox.require());
        events.resumed(container.id());
        return Empty.getDefaultInstance();
    }

    private Empty checkpoint(CheckpointTaskRequest request, CallContext ctx) {
        throw new TtrpcException(StatusCode.UNIMPLEMENTED, "service Checkpoint: not implemented (a VM sandbox cannot be checkpointed by this shim)");
    }

    private Empty update(UpdateTaskRequest request) throws Exception {
        containers.get(request.getId()).update(sandbox.require(), ResourceUpdate.of(request.getResources()));
        return Empty.getDefaultInstance();
    }

    private StatsResponse stats(StatsRequest request, CallContext ctx) throws Exception {
        Container container = containers.get(request.getId());
        Sandbox current = sandbox.current();
        if (current == null || container.init().status() == Status.STOPPED) {
            throw TtrpcException.of(StatusCode.FAILED_PRECONDITION, "container %s is not running: no stats", container.id());
        }
        return StatsResponse.newBuilder().setStats(CgroupMetrics.pack(current.statsContainer(container.id()))).build();
    }

    /** The lock the Sandbox service shares. */
    ShimLock lock() {
        return lock;
    }

    private <T> T locked(Callable<T> rpc) throws Exception {
        return lock.call(rpc);
    }
}
