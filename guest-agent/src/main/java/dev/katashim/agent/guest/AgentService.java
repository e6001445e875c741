package dev.katashim.agent.guest;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import com.google.protobuf.Empty;
import dev.katashim.agent.guest.container.Bundle;
import dev.katashim.agent.guest.container.Container;
import dev.katashim.agent.guest.container.ContainerState;
import dev.katashim.agent.guest.guest.CpuMemOnliner;
import dev.katashim.agent.guest.guest.FileCopier;
import dev.katashim.agent.guest.guest.GuestDetails;
import dev.katashim.agent.guest.metrics.AgentMetrics;
import dev.katashim.agent.guest.oci.RuntimeSpecJson;
import dev.katashim.agent.guest.process.ContainerProcess;
import dev.katashim.agent.guest.process.StartLimit;
import dev.katashim.agent.guest.runc.Runc;
import dev.katashim.agent.guest.runc.RuncException;
import dev.katashim.agent.guest.sandbox.CgroupParent;
import dev.katashim.agent.guest.sandbox.Sandbox;
import dev.katashim.agent.guest.stats.NetworkStatsReader;
import dev.katashim.agent.guest.oci.ResourceUpdateCheck;
import dev.katashim.agent.guest.process.WindowSize;
import dev.katashim.agent.guest.sandbox.ContainerNamespaces;
import dev.katashim.agent.guest.sandbox.OomPoller;
import dev.katashim.agent.guest.sandbox.SandboxNamespaces;
import dev.katashim.agent.guest.storage.GuestPaths;
import dev.katashim.agent.guest.storage.SandboxStorages;
import dev.katashim.agent.guest.storage.SpecMounts;
import dev.katashim.agent.guest.storage.StorageDriver;
import dev.katashim.agent.guest.sys.Libc;
import dev.katashim.protocols.kata.agent.CloseStdinRequest;
import dev.katashim.protocols.kata.agent.CopyFileRequest;
import dev.katashim.protocols.kata.agent.CreateContainerRequest;
import dev.katashim.protocols.kata.agent.CreateSandboxRequest;
import dev.katashim.protocols.kata.agent.DestroySandboxRequest;
import dev.katashim.protocols.kata.agent.ExecProcessRequest;
import dev.katashim.protocols.kata.agent.GetMetricsRequest;
import dev.katashim.protocols.kata.agent.GetOOMEventRequest;
import dev.katashim.protocols.kata.agent.GuestDetailsRequest;
import dev.katashim.protocols.kata.agent.GuestDetailsResponse;
import dev.katashim.protocols.kata.agent.KernelModule;
import dev.katashim.protocols.kata.agent.ListProcessesRequest;
import dev.katashim.protocols.kata.agent.ListProcessesResponse;
import dev.katashim.protocols.kata.agent.Metrics;
import dev.katashim.protocols.kata.agent.OOMEvent;
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
import dev.katashim.protocols.kata.agent.StatsContainerResponse;
import dev.katashim.protocols.kata.agent.TtyWinResizeRequest;
import dev.katashim.protocols.kata.agent.UpdateContainerRequest;
import dev.katashim.protocols.kata.agent.UpdateEphemeralMountsRequest;
import dev.katashim.protocols.kata.agent.WaitProcessRequest;
import dev.katashim.protocols.kata.agent.WaitProcessResponse;
import dev.katashim.protocols.kata.agent.WriteStreamRequest;
import dev.katashim.protocols.kata.agent.WriteStreamResponse;
import dev.katashim.ttrpc.status.StatusCode;
import dev.katashim.ttrpc.status.TtrpcException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The agent's RPCs, each mapped onto the sandbox / container / process state machine: the one
 * place to read what every implemented {@code grpc.AgentService} call does (the wiring to ttrpc,
 * and the calls this agent does not implement, are in {@link AgentServiceDefinition}).
 * Why it is long (~580 lines): it is the agent's counterpart of the shim's Task service, one short
 * method per implemented RPC of a 42-RPC API; splitting it by RPC group would scatter the one
 * table a reader needs. The work itself lives in container/, process/, storage/ and sandbox/.
 */
public final class AgentService {
    private static final Logger log = LoggerFactory.getLogger(AgentService.class);
    /** runc's own rule for container ids (they become paths and cgroup names). */
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.+-]{0,127}");
    /** The most one ReadStdout/ReadStderr returns: well inside ttrpc's 4 MiB frame. */
    static final int MAX_READ = 1 << 20;
    private static final Duration TEARDOWN_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration MODPROBE_TIMEOUT = Duration.ofSeconds(30);
    private static final Empty EMPTY = Empty.getDefaultInstance();
    /** sethostname(2)'s limit (HOST_NAME_MAX). */
    private static final int MAX_HOSTNAME = 64;

    private final AgentOptions options;
    private final Runc runc;
    private final Sandbox sandbox = new Sandbox();
    private final CgroupParent cgroupParent;
    private final GuestPaths paths;
    private final SandboxStorages storages;
    private final SandboxNamespaces namespaces;
    private final OomPoller oomPoller;
    private final AgentMetrics metrics = new AgentMetrics();
    private final GuestDetails guestDetails;
    private final FileCopier fileCopier;
    private final Object creation = new Object();

    public AgentService(AgentOptions options, Runc runc) throws IOException {
        this.options = options;
        this.runc = runc;
        this.cgroupParent = new CgroupParent(options.cgroupParent());
        this.paths = options.hostMode() ? GuestPaths.hostMode(options.stateDir(), options.sharedDir()) : GuestPaths.vm(options.sharedDir());
        this.storages = new SandboxStorages(paths);
        this.namespaces = new SandboxNamespaces(options.stateDir().resolve("sandbox-ns"));
        this.guestDetails = new GuestDetails(GuestAgent.VERSION, Arrays.stream(StorageDriver.values()).map(StorageDriver::wireName).toList());
        this.fileCopier = new FileCopier(options.sharedDir());
        Files.createDirectories(options.bundlesDir());
        Files.createDirectories(options.consoleDir());
        Files.createDirectories(options.runcRoot());
        this.oomPoller = OomPoller.start(sandbox);
    }

    /** Stops the agent's own background work (after {@link #destroyEverything()}). */
    public void close() {
        oomPoller.stop();
    }

    public Sandbox sandbox() {
        return sandbox;
    }

    // ---- sandbox ----

    /**
     * The sandbox: its storages (the shared directory, /dev/shm ...) mounted and held until it
     * ends, and the IPC and UTS namespaces (with its hostname) its containers share.
     */
    public Empty createSandbox(CreateSandboxRequest request) throws InterruptedException {
        if (sandbox.created()) {
            throw AgentStatus.alreadyExists("sandbox " + AgentStatus.quote(sandbox.id()));
        }
        String hostname = request.getHostname();
        if (hostname.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > MAX_HOSTNAME) {
            throw AgentStatus.invalid("CreateSandbox: the hostname " + AgentStatus.quote(hostname) + " is longer than "
                    + MAX_HOSTNAME + " bytes");
        }
        if (request.getKernelModulesCount() > 0) {
            if (options.hostMode()) {
                throw AgentStatus.precondition("CreateSandbox: loading kernel modules is refused in host mode (no VM: it would change the host kernel)");
            }
            loadKernelModules(request.getKernelModulesList());
        }
        synchronized (creation) {
            if (sandbox.created()) {
                throw AgentStatus.alreadyExists("sandbox " + AgentStatus.quote(sandbox.id()));
            }
            List<String> held = storages.acquire(request.getStoragesList());
            try {
                namespaces.create(hostname);
            } catch (IOException | RuntimeException e) {
                storages.abandon(held);
                throw AgentStatus.internal("CreateSandbox: cannot make the sandbox's IPC and UTS namespaces: " + e.getMessage());
            }
            sandbox.markCreated(request.getSandboxId(), hostname);
            log.info("sandbox {} created (hostname {}, storages {})", request.getSandboxId(), hostname, held);
        }
        return EMPTY;
    }

    public Empty updateEphemeralMounts(UpdateEphemeralMountsRequest request) throws InterruptedException {
        storages.remount(request.getStoragesList());
        return EMPTY;
    }

    public Empty destroySandbox(DestroySandboxRequest request) throws InterruptedException {
        destroyEverything();
        return EMPTY;
    }

    /** Kills and removes every container, unmounts every storage, and leaves no runc state or cgroup. */
    public void destroyEverything() throws InterruptedException {
        for (Container container : sandbox.containers()) {
            removeContainer(container, TEARDOWN_TIMEOUT);
        }
        storages.releaseAll();
        namespaces.release();
        sandbox.markDestroyed();
        try {
            // runc keeps one directory per container under its root: none means nothing to ask runc about
            for (String leftover : runcRootIsEmpty() ? List.<String>of() : runc.list()) {
                log.warn("runc still knows container {}: deleting it", leftover);
                runc.delete(leftover, true);
            }
        } catch (RuncException e) {
            log.warn("cleaning runc's root: {}", e.getMessage());
        }
        if (!cgroupParent.removeEmpty()) {
            log.warn("some cgroups under {} could not be removed", cgroupParent.path());
        }
    }

    private boolean runcRootIsEmpty() {
        try (var entries = Files.list(options.runcRoot())) {
            return entries.findAny().isEmpty();
        } catch (IOException missing) {
            return true;
        }
    }

    /**
     * At start: containers, bundles and cgroups an earlier agent with this state dir left behind
     * (it was killed without its shutdown) are removed; in host mode also what it left mounted
     * below the state dir (the state dir is the agent's alone; in a VM a new agent is a new VM).
     */
    public void cleanLeftovers() throws IOException {
        if (options.hostMode()) {
            SandboxStorages.unmountLeftovers(options.stateDir());
        }
        try {
            destroyEverything();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try (var stale = Files.list(options.bundlesDir())) {
            for (Path bundle : stale.toList()) {
                log.warn("removing the bundle {} an earlier agent left", bundle);
                new Bundle(bundle).delete();
            }
        }
    }

    // ---- containers ----

    public Empty createContainer(CreateContainerRequest request) throws InterruptedException {
        String id = request.getContainerId();
        requireId("container", id);
        if (!request.hasOCI()) {
            throw AgentStatus.invalid("CreateContainer: container " + AgentStatus.quote(id) + " has no OCI spec");
        }
        Spec spec = request.getOCI();
        if (!spec.hasProcess() || spec.getProcess().getArgsCount() == 0) {
            throw AgentStatus.invalid("CreateContainer: the OCI spec of container " + AgentStatus.quote(id)
                    + " has no process (process.args is empty)");
        }
        String execId = request.getExecId().isEmpty() ? id : request.getExecId();
        synchronized (creation) {
            if (sandbox.contains(id)) {
                throw AgentStatus.alreadyExists("container " + AgentStatus.quote(id));
            }
            List<String> held = storages.acquire(request.getStoragesList());
            Bundle bundle = null;
            try {
                Path rootfs = rootfs(id, spec);
                ObjectNode config = RuntimeSpecJson.config(spec, rootfs, cgroupParent.forContainer(id));
                SpecMounts.resolve(config, paths, id);
                if (namespaces.created()) {
                    ContainerNamespaces.joinSandbox(config, namespaces.ipc(), namespaces.uts());
                }
                // The pid namespace is the agent's choice: the first container's (set when this one starts), or a new one.
                Container pidNamespaceOf = request.getSandboxPidns() ? sandbox.first() : null;
                ContainerNamespaces.usePidNamespace(config, null);
                bundle = Bundle.create(options.bundlesDir().resolve(id));
                Runc.writeJson(bundle.configJson(), config);
                Container container = new Container(new Container.Definition(id, execId, bundle, config, held, pidNamespaceOf,
                        cgroupParent.containerDirectories(id)), runc, options.consoleDir(), sandbox::oom);
                sandbox.add(container);
                log.info("container {} created, rootfs {}{}", id, rootfs,
                        pidNamespaceOf == null ? "" : ", sharing the pid namespace of " + pidNamespaceOf.id());
                return EMPTY;
            } catch (IOException | RuntimeException e) {
                storages.abandon(held);
                deleteQuietly(bundle);
                if (e instanceof TtrpcException t) {
                    throw t;
                }
                throw AgentStatus.internal("CreateContainer " + AgentStatus.quote(id) + ": " + e.getMessage());
            }
        }
    }

    public Empty startContainer(StartContainerRequest request, StartLimit limit) throws InterruptedException {
        sandbox.get(request.getContainerId()).start(limit);
        return EMPTY;
    }

    public Empty removeContainer(RemoveContainerRequest request) throws InterruptedException {
        Container container = sandbox.get(request.getContainerId());
        removeContainer(container, Duration.ofSeconds(Integer.toUnsignedLong(request.getTimeout())));
        return EMPTY;
    }

    private void removeContainer(Container container, Duration timeout) throws InterruptedException {
        container.kill(timeout);
        storages.release(container.storages());
        deleteQuietly(container.bundle());
        sandbox.remove(container);
        log.info("container {} removed", container.id());
    }

    public Empty pauseContainer(PauseContainerRequest request) {
        Container container = sandbox.get(request.getContainerId());
        runcCall(container, () -> container.pause());
        return EMPTY;
    }

    public Empty resumeContainer(ResumeContainerRequest request) {
        Container container = sandbox.get(request.getContainerId());
        runcCall(container, () -> container.resume());
        return EMPTY;
    }

    public Empty updateContainer(UpdateContainerRequest request) {
        Container container = sandbox.get(request.getContainerId());
        if (!request.hasResources()) {
            throw AgentStatus.invalid("UpdateContainer: no resources given for container " + AgentStatus.quote(container.id()));
        }
        ResourceUpdateCheck.check(request.getResources(), container.id());
        runcCall(container, () -> container.update(request.getResources()));
        return EMPTY;
    }

    public StatsContainerResponse statsContainer(StatsContainerRequest request) {
        Container container = sandbox.get(request.getContainerId());
        Container.StatsSample[] sample = new Container.StatsSample[1];
        runcCall(container, () -> sample[0] = container.stats());
        return StatsContainerResponse.newBuilder()
                .setCgroupStats(sample[0].cgroup())
                .addAllNetworkStats(NetworkStatsReader.of(sample[0].initPid()))
                .build();
    }

    /**
     * {@code ps} of a container (an RPC upstream has since dropped; kept in our API): "json" is a
     * JSON array of the host pids, "table" is ps(1) output for the container's processes
     * ({@code runc ps}, ps options from {@code args}, {@code -ef} when none).
     */
    public ListProcessesResponse listProcesses(ListProcessesRequest request) {
        Container container = sandbox.get(request.getContainerId());
        if (!(container.state() instanceof ContainerState.Running || container.state() instanceof ContainerState.Paused)) {
            throw AgentStatus.precondition("ListProcesses: container " + AgentStatus.quote(container.id()) + " is "
                    + container.state().name() + ": it has no processes");
        }
        String[] out = new String[1];
        switch (request.getFormat()) {
            case "json" -> runcCall(container, () -> out[0] = runc.pids(container.id()).toString().replace(" ", ""));
            case "table", "" -> runcCall(container, () -> out[0] = runc.psTable(container.id(),
                    request.getArgsCount() == 0 ? List.of("-ef") : request.getArgsList()));
            default -> throw AgentStatus.invalid("ListProcesses: unknown format " + AgentStatus.quote(request.getFormat())
                    + " (use \"table\" or \"json\")");
        }
        return ListProcessesResponse.newBuilder().setProcessList(ByteString.copyFromUtf8(out[0])).build();
    }

    // ---- processes ----

    public Empty execProcess(ExecProcessRequest request, StartLimit limit) throws InterruptedException {
        Container container = sandbox.get(request.getContainerId());
        requireId("exec", request.getExecId());
        if (!request.hasProcess() || request.getProcess().getArgsCount() == 0) {
            throw AgentStatus.invalid("ExecProcess: process " + AgentStatus.quote(request.getExecId()) + " has no args");
        }
        ContainerProcess process = container.exec(request.getExecId(), request.getProcess(), limit);
        log.info("exec {} in container {}: pid {}", request.getExecId(), container.id(), process.pid());
        return EMPTY;
    }

    public Empty signalProcess(SignalProcessRequest request) {
        Container container = sandbox.get(request.getContainerId());
        int signal = request.getSignal();
        if (signal <= 0 || signal > 64) {
            throw AgentStatus.invalid("SignalProcess: " + Integer.toUnsignedString(signal) + " is not a signal number");
        }
        try {
            container.signal(request.getExecId(), signal);
        } catch (IOException e) {
            throw AgentStatus.internal("SignalProcess " + signal + " to " + AgentStatus.quote(request.getExecId())
                    + " of container " + AgentStatus.quote(container.id()) + ": " + e.getMessage());
        } catch (RuncException e) {
            throw runcFailure(container, e);
        }
        return EMPTY;
    }

    public WaitProcessResponse waitProcess(WaitProcessRequest request) throws InterruptedException {
        Container container = sandbox.get(request.getContainerId());
        return WaitProcessResponse.newBuilder().setStatus(container.await(request.getExecId())).build();
    }

    /** Empty data is end-of-file, as upstream: stdin is closed. */
    public WriteStreamResponse writeStdin(WriteStreamRequest request) {
        ContainerProcess process = process(request.getContainerId(), request.getExecId());
        try {
            if (request.getData().isEmpty()) {
                process.io().closeStdin();
                return WriteStreamResponse.newBuilder().setLen(0).build();
            }
            int written = process.io().writeStdin(request.getData().toByteArray());
            return WriteStreamResponse.newBuilder().setLen(written).build();
        } catch (IOException e) {
            throw AgentStatus.precondition("WriteStdin: cannot write to the stdin of process " + AgentStatus.quote(process.execId())
                    + " of container " + AgentStatus.quote(request.getContainerId()) + ": " + e.getMessage());
        }
    }

    public ReadStreamResponse readStdout(ReadStreamRequest request) throws InterruptedException {
        ContainerProcess process = process(request.getContainerId(), request.getExecId());
        return read(process.io().stdout().read(readLength("ReadStdout", request)));
    }

    public ReadStreamResponse readStderr(ReadStreamRequest request) throws InterruptedException {
        ContainerProcess process = process(request.getContainerId(), request.getExecId());
        return read(process.io().stderr().read(readLength("ReadStderr", request)));
    }

    /** An empty reply means end of stream, so a zero length is refused rather than answered empty. */
    private static int readLength(String method, ReadStreamRequest request) {
        if (request.getLen() == 0) {
            throw AgentStatus.invalid(method + ": len must be positive (an empty reply would mean end of stream)");
        }
        return (int) Math.min(Integer.toUnsignedLong(request.getLen()), MAX_READ);
    }

    private static ReadStreamResponse read(byte[] data) {
        return ReadStreamResponse.newBuilder().setData(ByteString.copyFrom(data)).build();
    }

    public Empty closeStdin(CloseStdinRequest request) {
        ContainerProcess process = process(request.getContainerId(), request.getExecId());
        try {
            process.io().closeStdin();
        } catch (IOException e) {
            throw AgentStatus.precondition("CloseStdin: " + e.getMessage());
        }
        return EMPTY;
    }

    /**
     * TIOCSWINSZ on the process's pty master. A terminal process that waits for its first size
     * (see {@link dev.katashim.agent.guest.process.WindowSizeGate}) starts now, of that size.
     */
    public Empty ttyWinResize(TtyWinResizeRequest request) {
        ContainerProcess process = process(request.getContainerId(), request.getExecId());
        String which = "process " + AgentStatus.quote(process.execId()) + " of container " + AgentStatus.quote(request.getContainerId());
        if (!process.io().terminal()) {
            throw AgentStatus.precondition("TtyWinResize: " + which + " has no terminal");
        }
        long rows = Integer.toUnsignedLong(request.getRow());
        long columns = Integer.toUnsignedLong(request.getColumn());
        if (rows > WindowSize.MAX || columns > WindowSize.MAX) {
            throw AgentStatus.invalid("TtyWinResize: " + rows + " rows x " + columns + " columns for " + which
                    + ": a terminal has at most " + WindowSize.MAX + " of each");
        }
        try {
            process.resize(new WindowSize((int) rows, (int) columns));
        } catch (TtrpcException e) {
            throw e;
        } catch (IOException e) {
            throw AgentStatus.precondition("TtyWinResize: " + which + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw AgentStatus.internal("TtyWinResize: " + which + ": interrupted");
        } catch (Exception e) {
            throw AgentStatus.internal("TtyWinResize: " + which + ": " + e.getMessage());
        }
        return EMPTY;
    }

    private ContainerProcess process(String containerId, String execId) {
        return sandbox.get(containerId).process(execId);
    }

    // ---- guest ----

    public Metrics getMetrics(GetMetricsRequest request) {
        return Metrics.newBuilder().setMetrics(metrics.scrape()).build();
    }

    public OOMEvent getOOMEvent(GetOOMEventRequest request) throws InterruptedException {
        return OOMEvent.newBuilder().setContainerId(sandbox.nextOom()).build();
    }

    public GuestDetailsResponse getGuestDetails(GuestDetailsRequest request) {
        return guestDetails.answer(request);
    }

    public Empty setGuestDateTime(SetGuestDateTimeRequest request) {
        refuseInHostMode("SetGuestDateTime", "it would set the host's clock");
        try {
            Libc.setTimeOfDay(request.getSec(), request.getUsec());
        } catch (IOException e) {
            throw AgentStatus.internal("SetGuestDateTime: " + e.getMessage());
        }
        return EMPTY;
    }

    public Empty onlineCpuMem(OnlineCPUMemRequest request) {
        refuseInHostMode("OnlineCPUMem", "it would online the host's CPUs and memory");
        new CpuMemOnliner(Path.of("/sys")).online(request);
        return EMPTY;
    }

    public Empty copyFile(CopyFileRequest request) {
        try {
            fileCopier.copy(request.toBuilder().setPath(paths.resolve(request.getPath())).build());
        } catch (IOException e) {
            throw AgentStatus.internal("CopyFile " + AgentStatus.quote(request.getPath()) + ": " + e.getMessage());
        }
        return EMPTY;
    }

    // ---- helpers ----

    private void refuseInHostMode(String method, String why) {
        if (options.hostMode()) {
            throw new TtrpcException(StatusCode.FAILED_PRECONDITION, AgentServiceDefinition.SERVICE + "/" + method
                    + " is refused: this agent runs on the host (host mode, no VM) and " + why);
        }
    }

    private static void requireId(String what, String id) {
        if (id.isEmpty()) {
            throw AgentStatus.invalid("the " + what + " id is empty");
        }
        if (!ID.matcher(id).matches()) {
            throw AgentStatus.invalid("invalid " + what + " id " + AgentStatus.quote(id) + ": use letters, digits, '_', '.', '+', '-' (up to 128)");
        }
    }

    private Path rootfs(String id, Spec spec) {
        String root = spec.getRoot().getPath();
        if (root.isEmpty() || !root.startsWith("/")) {
            throw AgentStatus.invalid("CreateContainer: the root path of container " + AgentStatus.quote(id)
                    + " must be absolute, got " + AgentStatus.quote(root));
        }
        Path rootfs = paths.resolve(Path.of(root).normalize());
        if (!Files.isDirectory(rootfs)) {
            throw AgentStatus.invalid("CreateContainer: the rootfs " + rootfs + " of container " + AgentStatus.quote(id)
                    + " is not a directory (not shared or not mounted?)");
        }
        return rootfs;
    }

    private void loadKernelModules(List<KernelModule> modules) throws InterruptedException {
        for (KernelModule module : modules) {
            List<String> command = new ArrayList<>(List.of("modprobe", module.getName()));
            command.addAll(module.getParametersList());
            HostTool.run(command, MODPROBE_TIMEOUT, "load kernel module " + module.getName());
        }
    }

    private interface RuncAction {
        void run() throws RuncException;
    }

    private static void runcCall(Container container, RuncAction action) {
        try {
            action.run();
        } catch (RuncException e) {
            throw runcFailure(container, e);
        }
    }

    private static TtrpcException runcFailure(Container container, RuncException e) {
        if (e.containerMissing()) {
            return AgentStatus.precondition("container " + AgentStatus.quote(container.id()) + " is not running: " + e.getMessage());
        }
        return AgentStatus.internal(e.getMessage());
    }

    private static void deleteQuietly(Bundle bundle) {
        if (bundle == null) {
            return;
        }
        try {
            bundle.delete();
        } catch (IOException e) {
            log.warn("cannot delete bundle {}: {}", bundle.dir(), e.toString());
        }
    }
}
