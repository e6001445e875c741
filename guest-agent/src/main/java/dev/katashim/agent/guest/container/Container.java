package dev.katashim.agent.guest.container;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.katashim.agent.guest.AgentStatus;
import dev.katashim.agent.guest.oci.RuntimeSpecJson;
import dev.katashim.agent.guest.process.ContainerProcess;
import dev.katashim.agent.guest.process.ProcessLauncher;
import dev.katashim.agent.guest.process.StartLimit;
import dev.katashim.agent.guest.process.TerminalIo;
import dev.katashim.agent.guest.process.WindowSize;
import dev.katashim.agent.guest.process.WindowSizeGate;
import dev.katashim.agent.guest.runc.Runc;
import dev.katashim.agent.guest.runc.RuncException;
import dev.katashim.agent.guest.sandbox.ContainerNamespaces;
import dev.katashim.agent.guest.stats.CgroupSampler;
import dev.katashim.agent.guest.stats.CgroupStatsMapper;
import dev.katashim.protocols.kata.agent.Box;
import dev.katashim.protocols.kata.agent.CgroupStats;
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
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * One container and its processes: the state machine Created → Running ⇄ Paused → Stopped, each
 * transition done with runc. Invalid transitions answer FAILED_PRECONDITION naming the state.
 * runc runs detached: the agent reaps the processes, looks at the cgroup's OOM kills when one
 * ends, and deletes the container from runc when its init has ended.
 * Why it is long (~540 lines): every transition and its undo on failure must see the same state
 * under one monitor (the detached runc, the held terminal start, the exec table, the OOM look);
 * split across classes, that state would have to be shared and locked from several places.
 */
public final class Container {
    private static final Logger log = LoggerFactory.getLogger(Container.class);
    private static final int SIGKILL = 9;
    private static final int SIGTERM = 15;

    /**
     * What a container is made of.
     *
     * @param config          its config.json (written to the bundle already)
     * @param storages        the mount points of the sandbox storages it holds a reference to
     * @param pidNamespaceOf  the container whose pid namespace it joins when it starts, or null for a new one
     * @param cgroupDirs      its cgroup in every hierarchy, for its OOM kills and statistics
     */
    public record Definition(String id, String initExecId, Bundle bundle, ObjectNode config, List<String> storages,
                             Container pidNamespaceOf, List<Path> cgroupDirs) {
        public Definition {
            storages = List.copyOf(storages);
            cgroupDirs = List.copyOf(cgroupDirs);
        }
    }

    private final String id;
    private final String initExecId;
    private final Bundle bundle;
    private final ObjectNode config;
    private final List<String> storages;
    private final Container pidNamespaceOf;
    private final Runc runc;
    private final Path consoleDir;
    private final Consumer<String> oomListener;
    private final List<Path> cgroupDirs;
    private final OomKills oomKills;
    private final Map<String, ContainerProcess> processes = new LinkedHashMap<>();
    private final CompletableFuture<Integer> initExit = new CompletableFuture<>();
    private ContainerState state = new ContainerState.Created();
    private boolean starting;
    private int consoleCounter;

    public Container(Definition definition, Runc runc, Path consoleDir, Consumer<String> oomListener) {
        this.id = definition.id();
        this.initExecId = definition.initExecId();
        this.bundle = definition.bundle();
        this.config = definition.config();
        this.storages = definition.storages();
        this.pidNamespaceOf = definition.pidNamespaceOf();
        this.runc = runc;
        this.consoleDir = consoleDir;
        this.oomListener = oomListener;
        this.cgroupDirs = definition.cgroupDirs();
        this.oomKills = new OomKills(definition.cgroupDirs());
    }

    public String id() {
        return id;
    }

    public Bundle bundle() {
        return bundle;
    }

    /** The sandbox storages (by mount point) this container holds. */
    public List<String> storages() {
        return storages;
    }

    public synchronized ContainerState state() {
        return state;
    }

    /** The host pid of the running (or paused) init; FAILED_PRECONDITION otherwise. */
    public synchronized long runningInitPid() {
        return switch (state) {
            case ContainerState.Running running -> running.init().pid();
            case ContainerState.Paused paused -> paused.init().pid();
            default -> throw AgentStatus.precondition("container " + AgentStatus.quote(id) + " is " + state.name() + ", not running");
        };
    }

    /**
     * Runs the container's init process. A terminal without a console size is created first and
     * started once its window size is known ({@link WindowSizeGate}); anything else runs at once.
     */
    public void start(StartLimit limit) throws InterruptedException {
        synchronized (this) {
            if (!(state instanceof ContainerState.Created) || starting) {
                throw AgentStatus.precondition("container " + AgentStatus.quote(id) + " is "
                        + (starting ? "starting" : state.name()) + ", not created: it cannot be started");
            }
            starting = true;
        }
        try {
            startInit(limit);
        } finally {
            synchronized (this) {
                starting = false;
            }
        }
    }

    private void startInit(StartLimit limit) throws InterruptedException {
        if (pidNamespaceOf != null) {
            long pid;
            try {
                pid = pidNamespaceOf.runningInitPid();
            } catch (RuntimeException e) {
                throw AgentStatus.precondition("container " + AgentStatus.quote(id) + " shares the pid namespace of the sandbox's first container "
                        + AgentStatus.quote(pidNamespaceOf.id()) + ", which does not run: " + e.getMessage());
            }
            ContainerNamespaces.usePidNamespace(config, "/proc/" + pid + "/ns/pid");
            Runc.writeJson(bundle.configJson(), config);
        }
        JsonNode process = config.path("process");
        boolean terminal = process.path("terminal").asBoolean(false);
        boolean waitForSize = terminal && !process.has("consoleSize");
        String name = "ctr-" + id;
        Path pidFile = bundle.pidFile(initExecId);
        Path logFile = bundle.runcLog(initExecId);
        ProcessLauncher.Launched launched;
        try {
            if (terminal) {
                Path console = nextConsoleSocket();
                ProcessBuilder command = waitForSize ? runc.create(id, bundle.dir(), pidFile, logFile, console)
                        : runc.run(id, bundle.dir(), pidFile, logFile, console);
                launched = ProcessLauncher.withTerminal(command, name, pidFile, logFile, console, TerminalIo.unattached(name), waitForSize, limit);
            } else {
                launched = ProcessLauncher.withPipes(runc.run(id, bundle.dir(), pidFile, logFile, null), name, pidFile, logFile, false, limit);
            }
        } catch (ProcessLauncher.LaunchException e) {
            deleteFromRunc();
            throw AgentStatus.internal("cannot start container " + AgentStatus.quote(id) + ": " + e.getMessage());
        }
        ContainerProcess init = ContainerProcess.running(initExecId, true, launched);
        if (waitForSize) {
            long initPid = launched.pid();
            init.holdUntilWindowSize(WindowSizeGate.hold(name, WindowSizeGate.GRACE, size -> startCreated(initPid)));
        }
        synchronized (this) {
            processes.put(initExecId, init);
            state = new ContainerState.Running(init);
        }
        init.exit().whenComplete((status, failure) -> initEnded(status));
        log.info("container {} started, init pid {}{}", id, init.pid(), waitForSize ? " (waiting for its window size)" : "");
    }

    /** The gate of a created terminal container opened: its process runs now. */
    private void startCreated(long pid) throws RuncException, InterruptedException {
        try {
            runc.start(id);
            ProcessLauncher.awaitExec(pid);
        } catch (RuncException e) {
            log.warn("container {}: runc start failed, killing it: {}", id, e.getMessage());
            try {
                runc.kill(id, SIGKILL, true);
            } catch (RuncException again) {
                log.warn("container {}: {}", id, again.getMessage());
            }
            throw e;
        }
    }

    private void initEnded(int status) {
        reportOomKills(); // before runc delete takes the cgroup away
        deleteFromRunc();
        synchronized (this) {
            state = new ContainerState.Stopped(status);
        }
        initExit.complete(status);
        log.info("container {} init exited with status {}", id, status);
    }

    /**
     * Reports the OOM kills of the container's cgroup not reported yet, as one event: the kernel may
     * kill several processes for one OOM (a shell and its pipeline), and upstream's agent, woken by
     * the cgroup's OOM notification, reports that once too.
     */
    public void reportOomKills() {
        int kills = oomKills.takeNew();
        if (kills > 0) {
            log.info("container {}: {} process(es) OOM-killed (its cgroup hit its memory limit)", id, kills);
            oomListener.accept(id);
        }
    }

    /**
     * Runs another process in the running container ({@code runc exec}). A terminal without a
     * console size is made when its window size is known ({@link WindowSizeGate}).
     */
    public ContainerProcess exec(String execId, Process spec, StartLimit limit) throws InterruptedException {
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
        String name = "exec-" + id + "-" + execId;
        ContainerProcess process;
        try {
            if (spec.getTerminal() && !hasConsoleSize(spec)) {
                process = new ContainerProcess(execId, false, TerminalIo.unattached(name));
                ContainerProcess held = process;
                process.holdUntilWindowSize(WindowSizeGate.hold(name, WindowSizeGate.GRACE, size -> launchHeldExec(held, spec, size)));
            } else {
                process = ContainerProcess.running(execId, false, launchExec(execId, spec,
                        spec.getTerminal() ? TerminalIo.unattached(name) : null, limit));
            }
        } catch (ProcessLauncher.LaunchException e) {
            forget(execId);
            reportOomKills(); // runc's init for the exec can be OOM-killed in the container's cgroup
            throw AgentStatus.internal("cannot exec " + AgentStatus.quote(execId) + " in container " + AgentStatus.quote(id) + ": " + e.getMessage());
        } catch (RuntimeException | InterruptedException e) {
            forget(execId);
            throw e;
        }
        synchronized (this) {
            processes.put(execId, process);
        }
        process.exit().whenComplete((status, failure) -> reportOomKills());
        return process;
    }

    private ProcessLauncher.Launched launchExec(String execId, Process spec, TerminalIo terminal, StartLimit limit)
            throws ProcessLauncher.LaunchException, InterruptedException {
        Runc.writeJson(bundle.processJson(execId), RuntimeSpecJson.process(spec));
        String name = "exec-" + id + "-" + execId;
        Path pidFile = bundle.pidFile(execId);
        Path logFile = bundle.runcLog(execId);
        if (terminal == null) {
            return ProcessLauncher.withPipes(runc.exec(id, bundle.processJson(execId), pidFile, logFile, null), name, pidFile, logFile, false, limit);
        }
        Path console = nextConsoleSocket();
        return ProcessLauncher.withTerminal(runc.exec(id, bundle.processJson(execId), pidFile, logFile, console),
                name, pidFile, logFile, console, terminal, false, limit);
    }

    /** The gate of a waiting exec opened: make it, of the size that arrived. */
    private void launchHeldExec(ContainerProcess process, Process spec, Optional<WindowSize> size) throws InterruptedException {
        Process sized = size.map(s -> spec.toBuilder().setConsoleSize(Box.newBuilder().setHeight(s.rows()).setWidth(s.columns())).build())
                .orElse(spec);
        TerminalIo terminal = (TerminalIo) process.io();
        try {
            if (!(state() instanceof ContainerState.Running)) {
                throw new ProcessLauncher.LaunchException("container " + AgentStatus.quote(id) + " is " + state().name());
            }
            process.ran(launchExec(process.execId(), sized, terminal, StartLimit.standard()));
            log.info("exec {} in container {}: pid {}", process.execId(), id, process.pid());
        } catch (ProcessLauncher.LaunchException e) {
            String why = "cannot exec " + AgentStatus.quote(process.execId()) + " in container " + AgentStatus.quote(id) + ": " + e.getMessage();
            // The shim's ExecProcess was answered already: the process's output and status tell.
            terminal.fail(why);
            process.neverRan(ContainerProcess.NEVER_RAN);
            reportOomKills();
            throw AgentStatus.internal(why);
        }
    }

    private static boolean hasConsoleSize(Process spec) {
        return spec.hasConsoleSize() && (spec.getConsoleSize().getHeight() > 0 || spec.getConsoleSize().getWidth() > 0);
    }

    private synchronized void forget(String execId) {
        processes.remove(execId);
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
    public void signal(String execId, int signal) throws java.io.IOException, RuncException {
        boolean all = execId.isEmpty() && signal == SIGKILL;
        ContainerState current = state();
        if (current instanceof ContainerState.Created) {
            if (isInit(execId) && (signal == SIGKILL || signal == SIGTERM)) {
                // Never started: nothing to signal, but a waiter must learn it is over.
                synchronized (this) {
                    if (state instanceof ContainerState.Created && !starting) {
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
            cancelHeldStarts();
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
        process.startIfHeld(); // a signal is for a process that runs
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

    /** One cgroup statistics sample, and the init's pid (for its network namespace). */
    public record StatsSample(CgroupStats cgroup, long initPid) {
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
        return new StatsSample(cgroupStats(), init.pid());
    }

    /** Read from the cgroup files; from {@code runc events --stats} (slower, a fork) if they cannot be read. */
    private CgroupStats cgroupStats() throws RuncException {
        try {
            Optional<CgroupSampler> sampler = CgroupSampler.of(cgroupDirs);
            if (sampler.isPresent()) {
                return sampler.get().sample();
            }
        } catch (IOException e) {
            log.debug("container {}: cgroup files unreadable ({}), asking runc for its statistics", id, e.toString());
        }
        return CgroupStatsMapper.map(runc.stats(id));
    }

    /**
     * Kills every process (SIGKILL to all), waits up to {@code timeout} (zero: no limit) for the
     * init to end, and makes sure runc forgets the container. Stdio buffers are dropped.
     */
    public void kill(Duration timeout) throws InterruptedException {
        ContainerState current = state();
        cancelHeldStarts();
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
        deleteFromRunc();
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

    /** Processes still waiting for their window size will not start: they end as killed. */
    private void cancelHeldStarts() {
        List<ContainerProcess> all;
        synchronized (this) {
            all = new ArrayList<>(processes.values());
        }
        for (ContainerProcess process : all) {
            if (process != null && process.cancelStart() && process.pid() <= 0) {
                process.io().discard();
                process.neverRan(128 + SIGKILL);
            }
        }
    }

    private void deleteFromRunc() {
        try {
            runc.delete(id, true);
        } catch (RuncException e) {
            if (!e.containerMissing()) {
                log.warn("runc delete of container {}: {}", id, e.getMessage());
            }
        }
    }

    private synchronized Path nextConsoleSocket() {
        return consoleDir.resolve(id.hashCode() + "-" + (consoleCounter++) + ".sock");
    }
}
