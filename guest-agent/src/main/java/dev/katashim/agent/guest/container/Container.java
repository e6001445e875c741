package dev.katashim.agent.guest.container;

import com.fasterxml.jackson.databind.JsonNode;
import dev.katashim.agent.guest.AgentStatus;
import dev.katashim.agent.guest.oci.RuntimeSpecJson;
import dev.katashim.agent.guest.process.ContainerProcess;
import dev.katashim.agent.guest.process.ProcessLauncher;
import dev.katashim.agent.guest.runc.Runc;
import dev.katashim.agent.guest.runc.RuncException;
import dev.katashim.agent.guest.storage.MountedStorage;
import dev.katashim.protocols.kata.agent.LinuxResources;
import dev.katashim.protocols.kata.agent.Process;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * One container and its processes: the state machine Created → Running ⇄ Paused → Stopped, each
 * transition done with runc. Invalid transitions answer FAILED_PRECONDITION naming the state.
 */
public final class Container {
    private static final Logger log = LoggerFactory.getLogger(Container.class);
    private static final int SIGKILL = 9;
    private static final int SIGTERM = 15;

    private final String id;
    private final String initExecId;
    private final Bundle bundle;
    private final boolean initTerminal;
    private final List<MountedStorage> storages;
    private final Runc runc;
    private final Path consoleDir;
    private final Consumer<String> oomListener;
    private final Map<String, ContainerProcess> processes = new LinkedHashMap<>();
    private final CompletableFuture<Integer> initExit = new CompletableFuture<>();
    private ContainerState state = new ContainerState.Created();
    private OomWatcher oomWatcher;
    private int consoleCounter;

    public Container(String id, String initExecId, Bundle bundle, boolean initTerminal, List<MountedStorage> storages,
                     Runc runc, Path consoleDir, Consumer<String> oomListener) {
        this.id = id;
        this.initExecId = initExecId;
        this.bundle = bundle;
        this.initTerminal = initTerminal;
        this.storages = List.copyOf(storages);
        this.runc = runc;
        this.consoleDir = consoleDir;
        this.oomListener = oomListener;
    }

    public String id() {
        return id;
    }

    public Bundle bundle() {
        return bundle;
    }

    public List<MountedStorage> storages() {
        return storages;
    }

    public synchronized ContainerState state() {
        return state;
    }

    /** Runs the container's init process ({@code runc run}). */
    public void start() throws InterruptedException {
        synchronized (this) {
            if (!(state instanceof ContainerState.Created)) {
                throw AgentStatus.precondition("container " + AgentStatus.quote(id) + " is " + state.name() + ", not created: it cannot be started");
            }
        }
        Path console = initTerminal ? nextConsoleSocket() : null;
        ProcessLauncher.Launched launched;
        try {
            launched = ProcessLauncher.launch(runc.run(id, bundle.dir(), bundle.pidFile(initExecId), bundle.runcLog(initExecId), console),
                    "ctr-" + id, bundle.pidFile(initExecId), bundle.runcLog(initExecId), console);
        } catch (ProcessLauncher.LaunchException e) {
            throw AgentStatus.internal("cannot start container " + AgentStatus.quote(id) + ": " + e.getMessage());
        }
        ContainerProcess init = new ContainerProcess(initExecId, true, launched);
        synchronized (this) {
            processes.put(initExecId, init);
            state = new ContainerState.Running(init);
        }
        init.exit().whenComplete((status, failure) -> initEnded(init, status == null ? 255 : status));
        oomWatcher = OomWatcher.start(runc, id, oomListener);
        log.info("container {} started, init pid {}", id, init.pid());
    }

    private void initEnded(ContainerProcess init, int status) {
        if (init.detached()) {
            // A foreground runc destroys the container when its init ends; a detached one leaves that to us.
            try {
                runc.delete(id, true);
            } catch (RuncException e) {
                log.warn("runc delete of ended container {}: {}", id, e.getMessage());
            }
        }
        synchronized (this) {
            state = new ContainerState.Stopped(status);
        }
        initExit.complete(status);
        log.info("container {} init exited with status {}", id, status);
    }

    /** Runs another process in the running container ({@code runc exec}). */
    public ContainerProcess exec(String execId, Process spec) throws InterruptedException {
        synchronized (this) {
            if (!(state instanceof ContainerState.Running)) {
                throw AgentStatus.precondition("cannot exec in container " + AgentStatus.quote(id) + ": it is " + state.name() + ", not running");
            }
            if (processes.containsKey(execId)) {
                throw AgentStatus.alreadyExists("process " + AgentStatus.quote(execId) + " of container " + AgentStatus.quote(id));
            }
            // Reserve the id while runc starts it.
            processes.put(execId, null);
        }
        try {
            Runc.writeJson(bundle.processJson(execId), RuntimeSpecJson.process(spec));
            Path console = spec.getTerminal() ? nextConsoleSocket() : null;
            ProcessLauncher.Launched launched = ProcessLauncher.launch(
                    runc.exec(id, bundle.processJson(execId), bundle.pidFile(execId), bundle.runcLog(execId), console),
                    "exec-" + id + "-" + execId, bundle.pidFile(execId), bundle.runcLog(execId), console);
            ContainerProcess process = new ContainerProcess(execId, false, launched);
            synchronized (this) {
                processes.put(execId, process);
            }
            return process;
        } catch (ProcessLauncher.LaunchException e) {
            synchronized (this) {
                processes.remove(execId);
            }
            throw AgentStatus.internal("cannot exec " + AgentStatus.quote(execId) + " in container " + AgentStatus.quote(id) + ": " + e.getMessage());
        } catch (RuntimeException | InterruptedException e) {
            synchronized (this) {
                processes.remove(execId);
            }
            throw e;
        }
    }

    /** The init process ("" or the init's exec id) or an exec; NOT_FOUND otherwise. */
    public synchronized ContainerProcess process(String execId) {
        String key = execId.isEmpty() ? initExecId : execId;
        ContainerProcess process = processes.get(key);
        if (process == null) {
            if (key.equals(initExecId) && state instanceof ContainerState.Created) {
                throw AgentStatus.precondition("container " + AgentStatus.quote(id) + " is created but not started: its init process does not run yet");
            }
            throw AgentStatus.processNotFound(id, execId);
        }
        return process;
    }

    public boolean isInit(String execId) {
        return execId.isEmpty() || execId.equals(initExecId);
    }

    /** Waits for a process to end; an exec is forgotten once waited for (as upstream's agent does). */
    public int await(String execId) throws InterruptedException {
        if (isInit(execId)) {
            synchronized (this) {
                if (!processes.containsKey(initExecId) && !(state instanceof ContainerState.Created) && !initExit.isDone()) {
                    throw AgentStatus.processNotFound(id, execId);
                }
            }
            try {
                return initExit.get();
            } catch (ExecutionException e) {
                throw AgentStatus.internal("exit of container " + AgentStatus.quote(id) + " unknown: " + e.getCause());
            }
        }
        ContainerProcess process = process(execId);
        int status = process.awaitExit();
        synchronized (this) {
            processes.remove(execId, process);
        }
        return status;
    }

    /**
     * Signals a process. An empty exec id with SIGKILL means every process of the container (as
     * Kata's runtime encodes "all"); SIGTERM to an init without a handler for it becomes SIGKILL
     * (pid 1 of a namespace ignores unhandled signals). A process that is gone is no error.
     */
    public void signal(String execId, int signal) throws IOException, RuncException {
        boolean all = execId.isEmpty() && signal == SIGKILL;
        ContainerState current = state();
        if (current instanceof ContainerState.Created) {
            if (isInit(execId) && (signal == SIGKILL || signal == SIGTERM)) {
                // Never started: nothing to signal, but a waiter must learn it is over.
                synchronized (this) {
                    if (state instanceof ContainerState.Created) {
                        state = new ContainerState.Stopped(128 + signal);
                        initExit.complete(128 + signal);
                        return;
                    }
                }
                current = state();
            } else {
                throw AgentStatus.precondition("container " + AgentStatus.quote(id) + " is created but not started: nothing to signal");
            }
        }
        if (current instanceof ContainerState.Stopped) {
            if (isInit(execId)) {
                return; // like ESRCH upstream: a stopped container can be killed again
            }
        }
        if (all) {
            try {
                runc.kill(id, SIGKILL, true);
            } catch (RuncException e) {
                if (!e.containerMissing() && !initExit.isDone()) {
                    throw e;
                }
            }
            return;
        }
        ContainerProcess process = process(execId);
        int effective = signal;
        if (process.init() && signal == SIGTERM && !process.handles(SIGTERM)) {
            effective = SIGKILL;
        }
        process.signal(effective);
    }

    public void pause() throws RuncException {
        synchronized (this) {
            if (!(state instanceof ContainerState.Running running)) {
                throw AgentStatus.precondition("container " + AgentStatus.quote(id) + " is " + state.name() + ", not running: it cannot be paused");
            }
            runc.pause(id);
            state = new ContainerState.Paused(running.init());
        }
    }

    public void resume() throws RuncException {
        synchronized (this) {
            if (!(state instanceof ContainerState.Paused paused)) {
                throw AgentStatus.precondition("container " + AgentStatus.quote(id) + " is " + state.name() + ", not paused: it cannot be resumed");
            }
            runc.resume(id);
            state = new ContainerState.Running(paused.init());
        }
    }

    public void update(LinuxResources resources) throws RuncException {
        synchronized (this) {
            if (!(state instanceof ContainerState.Running || state instanceof ContainerState.Paused)) {
                throw AgentStatus.precondition("container " + AgentStatus.quote(id) + " is " + state.name() + ": only a running or paused container can be updated");
            }
            Runc.writeJson(bundle.resourcesJson(), RuntimeSpecJson.resources(resources));
            runc.update(id, bundle.resourcesJson());
        }
    }

    /** One cgroup statistics sample from runc, and the init's pid (for its network namespace). */
    public record StatsSample(JsonNode cgroup, long initPid) {
    }

    public StatsSample stats() throws RuncException {
        ContainerProcess init;
        synchronized (this) {
            init = switch (state) {
                case ContainerState.Running running -> running.init();
                case ContainerState.Paused paused -> paused.init();
                default -> throw AgentStatus.precondition("container " + AgentStatus.quote(id) + " is " + state.name() + ": it has no statistics");
            };
        }
        return new StatsSample(runc.stats(id), init.pid());
    }

    /**
     * Kills every process (SIGKILL to all), waits up to {@code timeout} (zero: no limit) for the
     * init to end, and makes sure runc forgets the container. Stdio buffers are dropped.
     */
    public void kill(Duration timeout) throws InterruptedException {
        ContainerState current = state();
        if (current instanceof ContainerState.Paused) {
            try {
                runc.resume(id); // a frozen cgroup would hold SIGKILL back
            } catch (RuncException e) {
                log.warn("resume of paused container {} before kill: {}", id, e.getMessage());
            }
        }
        if (current instanceof ContainerState.Running || current instanceof ContainerState.Paused) {
            try {
                runc.kill(id, SIGKILL, true);
            } catch (RuncException e) {
                if (!e.containerMissing()) {
                    log.warn("kill of container {}: {}", id, e.getMessage());
                }
            }
            try {
                if (timeout.isZero()) {
                    initExit.get();
                } else {
                    initExit.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
                }
            } catch (ExecutionException | TimeoutException e) {
                log.warn("container {} init did not end after SIGKILL within {}", id, timeout);
            }
        } else if (current instanceof ContainerState.Created) {
            synchronized (this) {
                state = new ContainerState.Stopped(128 + SIGKILL);
            }
            initExit.complete(128 + SIGKILL);
        }
        if (oomWatcher != null) {
            oomWatcher.stop();
        }
        try {
            runc.delete(id, true);
        } catch (RuncException e) {
            if (!e.containerMissing()) {
                log.warn("runc delete of container {}: {}", id, e.getMessage());
            }
        }
        List<ContainerProcess> all;
        synchronized (this) {
            all = new ArrayList<>(processes.values());
            processes.clear();
        }
        for (ContainerProcess process : all) {
            if (process != null) {
                process.io().discard();
            }
        }
    }

    private synchronized Path nextConsoleSocket() {
        return consoleDir.resolve(id.hashCode() + "-" + (consoleCounter++) + ".sock");
    }
}
