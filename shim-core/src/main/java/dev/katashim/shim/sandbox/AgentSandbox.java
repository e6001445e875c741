package dev.katashim.shim.sandbox;

import dev.katashim.agent.client.AgentClient;
import dev.katashim.protocols.containerd.types.Mount;
import dev.katashim.protocols.kata.agent.CgroupStats;
import dev.katashim.protocols.kata.agent.CreateContainerRequest;
import dev.katashim.protocols.kata.agent.CreateSandboxRequest;
import dev.katashim.protocols.kata.agent.DestroySandboxRequest;
import dev.katashim.protocols.kata.agent.ExecProcessRequest;
import dev.katashim.protocols.kata.agent.GetOOMEventRequest;
import dev.katashim.protocols.kata.agent.LinuxResources;
import dev.katashim.protocols.kata.agent.PauseContainerRequest;
import dev.katashim.protocols.kata.agent.Process;
import dev.katashim.protocols.kata.agent.RemoveContainerRequest;
import dev.katashim.protocols.kata.agent.ResumeContainerRequest;
import dev.katashim.protocols.kata.agent.SignalProcessRequest;
import dev.katashim.protocols.kata.agent.Spec;
import dev.katashim.protocols.kata.agent.StartContainerRequest;
import dev.katashim.protocols.kata.agent.StatsContainerRequest;
import dev.katashim.protocols.kata.agent.TtyWinResizeRequest;
import dev.katashim.protocols.kata.agent.UpdateContainerRequest;
import dev.katashim.protocols.kata.agent.WaitProcessRequest;
import dev.katashim.shim.io.AgentStreams;
import dev.katashim.shim.oci.Bundle;
import dev.katashim.shim.oci.GuestSpec;
import dev.katashim.shim.oci.OciHooks;
import dev.katashim.shim.oci.OciJsonToAgentSpec;
import dev.katashim.shim.resource.SandboxResources;
import dev.katashim.shim.sandbox.StartPhases.Phase;
import dev.katashim.ttrpc.status.StatusCode;
import dev.katashim.ttrpc.status.TtrpcException;
import dev.katashim.vmm.Hypervisor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;

/**
 * A booted sandbox driven through its agent: the hypervisor (QEMU, or the host agent), the agent
 * connection, the host resources, the directory and the monitor serving its metrics. It knows
 * which of its containers run, for the pod-overhead sampler, without asking the Task service.
 */
final class AgentSandbox implements Sandbox {
    private static final Logger log = LoggerFactory.getLogger(AgentSandbox.class);

    private final String id;
    private final Hypervisor hypervisor;
    private final AgentClient agent;
    private final SandboxResources resources;
    private final SandboxDirectory directory;
    private final StartPhases phases;
    private final GuestPolicy policy;
    private final GuestDiagnostics diagnostics;
    private volatile SandboxMonitor monitor;
    private final Map<String, Bundle> bundles = new ConcurrentHashMap<>();
    private final Set<String> started = ConcurrentHashMap.newKeySet();
    private final Set<String> running = ConcurrentHashMap.newKeySet();
    private final Map<String, LongAdder> oomKills = new ConcurrentHashMap<>();
    private final AtomicBoolean destroying = new AtomicBoolean();
    private final CompletableFuture<Void> ended = new CompletableFuture<>();

    /**
     * What the guest gets: {@code guest}, the spec made fit for a VM ({@link GuestSpec}) and host
     * mounts shared into it (false for a host agent, which sees the host); {@code passSeccomp}, the
     * containers' seccomp profiles kept.
     */
    record GuestPolicy(boolean guest, boolean passSeccomp) {
    }

    AgentSandbox(String id, Hypervisor hypervisor, AgentClient agent, SandboxResources resources, SandboxDirectory directory,
                 StartPhases phases, GuestPolicy policy, GuestDiagnostics diagnostics) {
        this.id = id;
        this.hypervisor = hypervisor;
        this.agent = agent;
        this.resources = resources;
        this.directory = directory;
        this.phases = phases;
        this.policy = policy;
        this.diagnostics = diagnostics;
        hypervisor.exited().thenRun(this::hypervisorExited);
    }

    /** Hands the sandbox to what has watched it since its boot began: now its agent's metrics and pod overhead too. */
    void watchedBy(SandboxMonitor watching) {
        monitor = watching;
        watching.agentReady(agent, resources.cgroup(), hypervisor.metrics(), this::runningContainers, this::oomKills);
    }

    /**
     * Runs the sandbox container's prestart and createRuntime hooks on the host, then creates the
     * sandbox in the agent (CreateSandbox) with the hostname and the pod's /dev/shm its first
     * container's bundle asks for; on failure the caller destroys it.
     */
    void create(Bundle bundle) throws Exception {
        OciHooks.run(bundle, List.of(OciHooks.Point.PRESTART, OciHooks.Point.CREATE_RUNTIME), id, "creating", pid());
        String hostname = bundle.config().path("hostname").asText(id);
        CreateSandboxRequest request = CreateSandboxRequest.newBuilder().setSandboxId(id)
                .setHostname(hostname.length() > 64 ? hostname.substring(0, 64) : hostname)
                .addAllStorages(resources.sandboxStorages(OciJsonToAgentSpec.spec(bundle.config()).getMountsList())).build();
        StartPhases.Timing timing = phases.begin(Phase.SANDBOX_CREATE);
        agent.createSandbox(request);
        timing.done();
    }

    private void containersChanged() {
        SandboxMonitor watching = monitor;
        if (watching != null) {
            watching.containersChanged();
        }
    }

    /** The containers whose processes run now, for the pod-overhead sampler. */
    Collection<String> runningContainers() {
        return List.copyOf(running);
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public int pid() {
        return (int) hypervisor.pid();
    }

    @Override
    public void createContainer(String containerId, Bundle bundle, List<Mount> rootfs) throws Exception {
        Spec spec = OciJsonToAgentSpec.spec(bundle.config());
        CreateContainerRequest.Builder request = CreateContainerRequest.newBuilder().setContainerId(containerId).setExecId(containerId);
        try {
            Path root = resources.addContainerRootfs(containerId, bundle, rootfs);
            Spec.Builder shared = spec.toBuilder().setRoot(spec.getRoot().toBuilder().setPath(root.toString()))
                    .clearMounts().addAllMounts(resources.addContainerVolumes(containerId, spec.getMountsList()));
            if (policy.guest()) {
                GuestSpec.Constrained guest = GuestSpec.constrain(shared.build(), policy.passSeccomp());
                request.setOCI(guest.spec()).setSandboxPidns(guest.sandboxPidNamespace());
            } else {
                request.setOCI(shared);
            }
        } catch (IOException e) {
            resources.removeContainer(containerId);
            throw new TtrpcException(StatusCode.INTERNAL, e.getMessage());
        } catch (RuntimeException e) {
            resources.removeContainer(containerId);
            throw e;
        }
        try {
            StartPhases.Timing timing = phases.begin(Phase.CONTAINER_CREATE);
            agent.createContainer(request.build());
            if (containerId.equals(id)) {
                timing.done();
            } else {
                // a pod container's own prestart hooks run once it exists in the guest, as upstream
                createdHooks(containerId, bundle);
            }
        } catch (Exception e) {
            resources.removeContainer(containerId);
            throw e;
        }
        bundles.put(containerId, bundle);
    }

    private void createdHooks(String containerId, Bundle bundle) throws Exception {
        try {
            OciHooks.run(bundle, List.of(OciHooks.Point.PRESTART, OciHooks.Point.CREATE_RUNTIME), containerId, "created", pid());
        } catch (Exception e) {
            agent.removeContainer(RemoveContainerRequest.newBuilder().setContainerId(containerId).build());
            throw e;
        }
    }

    /** Poststart and poststop hooks: a failure is logged, as upstream, and changes nothing. */
    private void laterHooks(String containerId, OciHooks.Point point, String status) {
        Bundle bundle = bundles.get(containerId);
        if (bundle == null) {
            return;
        }
        try {
            OciHooks.run(bundle, List.of(point), containerId, status, pid());
        } catch (Exception e) {
            log.warn("container {}: {}", containerId, e.getMessage());
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public void startContainer(String containerId) throws Exception {
        StartPhases.Timing timing = phases.begin(Phase.CONTAINER_START);
        agent.startContainer(StartContainerRequest.newBuilder().setContainerId(containerId).build());
        if (containerId.equals(id)) {
            timing.done(); // the start phases are the sandbox's own container's
        }
        started.add(containerId);
        running.add(containerId);
        containersChanged();
        laterHooks(containerId, OciHooks.Point.POSTSTART, "running");
    }

    @Override
    public void execProcess(String containerId, String execId, Process process) throws Exception {
        agent.execProcess(ExecProcessRequest.newBuilder().setContainerId(containerId).setExecId(execId).setProcess(process).build());
    }

    @Override
    public void signalProcess(String containerId, String execId, int signal) throws Exception {
        agent.signalProcess(SignalProcessRequest.newBuilder().setContainerId(containerId).setExecId(execId).setSignal(signal).build());
    }

    @Override
    public int waitProcess(String containerId, String execId) throws Exception {
        try {
            return agent.waitProcess(WaitProcessRequest.newBuilder().setContainerId(containerId).setExecId(execId).build()).getStatus();
        } finally {
            if (execId.equals(containerId) && running.remove(containerId)) {
                containersChanged();
            }
        }
    }

    @Override
    public void resizePty(String containerId, String execId, int rows, int columns) throws Exception {
        agent.ttyWinResize(TtyWinResizeRequest.newBuilder().setContainerId(containerId).setExecId(execId)
                .setRow(rows).setColumn(columns).build());
    }

    @Override
    public void pauseContainer(String containerId) throws Exception {
        agent.pauseContainer(PauseContainerRequest.newBuilder().setContainerId(containerId).build());
    }

    @Override
    public void resumeContainer(String containerId) throws Exception {
        agent.resumeContainer(ResumeContainerRequest.newBuilder().setContainerId(containerId).build());
    }

    @Override
    public void updateContainer(String containerId, LinuxResources resources) throws Exception {
        agent.updateContainer(UpdateContainerRequest.newBuilder().setContainerId(containerId).setResources(resources).build());
    }

    @Override
    public String awaitOom() throws Exception {
        String containerId = agent.getOOMEvent(GetOOMEventRequest.getDefaultInstance()).getContainerId();
        if (bundles.containsKey(containerId)) { // the guest's word: only our containers are counted (the map stays bounded)
            oomKills.computeIfAbsent(containerId, id -> new LongAdder()).increment();
        }
        return containerId;
    }

    /** The OOM kills the agent reported in container {@code containerId} ({@code kata_container_oom_events_total}). */
    long oomKills(String containerId) {
        LongAdder kills = oomKills.get(containerId);
        return kills == null ? 0 : kills.sum();
    }

    @Override
    public CgroupStats statsContainer(String containerId) throws Exception {
        return agent.statsContainer(StatsContainerRequest.newBuilder().setContainerId(containerId).build()).getCgroupStats();
    }

    @Override
    public void deleteContainer(String containerId) throws Exception {
        boolean ran = started.remove(containerId);
        running.remove(containerId);
        if (!destroying.get()) {
            try {
                agent.removeContainer(RemoveContainerRequest.newBuilder().setContainerId(containerId).build());
            } catch (TtrpcException e) {
                if (!ran) {
                    throw e;
                }
                log.debug("RemoveContainer {}: {}", containerId, e.getMessage());
            }
        }
        resources.removeContainer(containerId);
        laterHooks(containerId, OciHooks.Point.POSTSTOP, "stopped");
        bundles.remove(containerId);
    }

    @Override
    public AgentStreams streams(String containerId, String execId) {
        return new AgentProcessStreams(agent, containerId, execId);
    }

    @Override
    public CompletableFuture<Void> ended() {
        return ended;
    }

    /** The VMM or host agent died on its own: the sandbox is gone, and so is everything in it. */
    private void hypervisorExited() {
        if (!destroying.get()) {
            log.warn("sandbox {}: hypervisor ({}) pid {} exited", id, hypervisor.kind(), hypervisor.pid());
            Thread.ofVirtual().name("teardown-" + id).start(this::destroy);
        }
    }

    @Override
    public void destroy() {
        if (!destroying.compareAndSet(false, true)) {
            ended.join();
            return;
        }
        try {
            tearDown();
        } finally {
            ended.complete(null);
        }
    }

    /**
     * In this order: no more scrapes, the agent's own cleanup, the hypervisor, the report of a
     * sandbox that ended on its own (its console read before it goes), the host resources, the directory.
     */
    private void tearDown() {
        Integer vmmExit = hypervisor.exited().getNow(null);
        String onItsOwn = vmmExit != null ? hypervisor.kind() + " pid " + hypervisor.pid() + " exited with status " + vmmExit
                : agent.isOpen() ? null : "the agent's connection closed";
        SandboxMonitor watching = monitor;
        if (watching != null) {
            watching.stopServing();
        }
        boolean agentCleanedUp = false;
        try {
            if (agent.isOpen() && !hypervisor.exited().isDone()) {
                agent.destroySandbox(DestroySandboxRequest.getDefaultInstance());
                agentCleanedUp = true;
            }
        } catch (Exception e) {
            log.warn("sandbox {}: DestroySandbox failed: {}", id, e.getMessage());
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
        }
        agent.close();
        // once the agent has destroyed everything there is nothing left to stop gracefully
        hypervisor.stop(agentCleanedUp ? Duration.ZERO : Duration.ofSeconds(5));
        if (onItsOwn != null) {
            diagnostics.endedOnItsOwn(onItsOwn);
        } else {
            diagnostics.close();
        }
        resources.release();
        directory.delete();
    }
}
