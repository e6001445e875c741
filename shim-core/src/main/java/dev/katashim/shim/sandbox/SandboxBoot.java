package dev.katashim.shim.sandbox;

import dev.katashim.agent.client.AgentClient;
import dev.katashim.agent.client.AgentTimeouts;
import dev.katashim.metrics.ShimMetrics;
import dev.katashim.shim.config.ConfigException;
import dev.katashim.shim.config.HypervisorSettings;
import dev.katashim.shim.config.KataConfig;
import dev.katashim.shim.config.KataConfigLoader;
import dev.katashim.shim.logging.DebugLogging;
import dev.katashim.shim.resource.SandboxResources;
import dev.katashim.shim.sandbox.StartPhases.Phase;
import dev.katashim.ttrpc.status.StatusCode;
import dev.katashim.ttrpc.status.TtrpcException;
import dev.katashim.vmm.Hypervisor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * Boots one sandbox, step by step: its configuration, directory, host resources, hypervisor, and
 * the agent's first answer. The sandbox is not created in the agent yet: a shim boots as soon as it
 * starts, before containerd's Create brings the details. When a step fails, or the boot is
 * interrupted (the shim is stopping), nothing is left.
 */
final class SandboxBoot {
    private static final Logger log = LoggerFactory.getLogger(SandboxBoot.class);

    private SandboxBoot() {
    }

    static AgentSandbox boot(String sandboxId, Optional<Path> configPath, Optional<String> podCgroupsPath,
                             ShimConfig config, ShimMetrics metrics) throws IOException, InterruptedException {
        KataConfig kata = configuration(configPath);
        if (kata.runtime().enableDebug()) {
            DebugLogging.enable("[runtime] enable_debug in " + kata.source());
        }
        SandboxDirectory directory = SandboxDirectory.of(config.sandboxRoot(), sandboxId);
        Hypervisor hypervisor;
        try {
            hypervisor = Hypervisors.create(kata, config.agentCommand(), directory);
        } catch (ConfigException e) {
            throw new TtrpcException(StatusCode.INVALID_ARGUMENT, e.getMessage());
        }
        log.info("sandbox {}: configuration {}, hypervisor {}", sandboxId, kata.source(), hypervisor.kind());
        StartPhases phases = new StartPhases(metrics);
        SandboxMonitor monitor = null;
        SandboxResources resources = null;
        GuestDiagnostics diagnostics = null;
        try {
            directory.create();
            // scrapes are answered from now on: the shim's part and the start phases while the guest boots
            monitor = SandboxMonitor.serve(sandboxId, metrics, directory, hypervisor, kata.runtime().metricsRefreshPeriod());
            resources = SandboxResources.prepare(sandboxId, export(kata, hypervisor), directory.sharedDir(), podCgroupsPath);
            Optional<String> cgroup = resources.cgroup().path();
            if (cgroup.isPresent()) {
                Files.writeString(directory.hostCgroupFile(), cgroup.get());
            }
            StartPhases.Timing vmBoot = phases.begin(Phase.VM_BOOT);
            hypervisor.start(directory.path(), resources.placement());
            diagnostics = GuestDiagnostics.start(sandboxId, hypervisor, config.keptLogs());
            vmBoot.done();
            Files.writeString(directory.hypervisorPidFile(), Long.toString(hypervisor.pid()));
            StartPhases.Timing agentReady = phases.begin(Phase.AGENT_READY);
            AgentClient agent = dial(hypervisor, kata.agent(), metrics);
            agentReady.done();
            AgentSandbox sandbox = new AgentSandbox(sandboxId, hypervisor, agent, resources, directory, phases,
                    policy(kata, hypervisor), diagnostics);
            sandbox.watchedBy(monitor);
            return sandbox;
        } catch (IOException | RuntimeException | InterruptedException e) {
            // a boot interrupted by the shim's shutdown still undoes every step: its commands (umount) must not see the interrupt
            boolean interrupted = Thread.interrupted();
            if (monitor != null) {
                monitor.stopServing();
            }
            hypervisor.stop(Duration.ofSeconds(2));
            // the console says why a guest never answered: kept, and named, before its directory goes
            IOException named = diagnostics != null && e instanceof IOException io ? diagnostics.bootFailed(io) : null;
            if (diagnostics != null) {
                diagnostics.close();
            }
            if (resources != null) {
                resources.release();
            }
            directory.delete();
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
            if (named != null) {
                throw named;
            }
            throw e;
        }
    }

    private static SandboxResources.Export export(KataConfig kata, Hypervisor hypervisor) {
        if (!hypervisor.isolated()) {
            return SandboxResources.Export.HOST_PATHS;
        }
        return kata.hypervisor() instanceof HypervisorSettings.Qemu qemu && qemu.sharedFs() == HypervisorSettings.SharedFs.VIRTIO_FS
                ? SandboxResources.Export.BY_DAEMON : SandboxResources.Export.BY_HYPERVISOR;
    }

    /** A VM's guest gets a spec fit for it, its seccomp profiles only if {@code disable_guest_seccomp = false}. */
    private static AgentSandbox.GuestPolicy policy(KataConfig kata, Hypervisor hypervisor) {
        boolean passSeccomp = kata.hypervisor() instanceof HypervisorSettings.Qemu qemu && !qemu.disableGuestSeccomp();
        return new AgentSandbox.GuestPolicy(hypervisor.isolated(), passSeccomp);
    }

    /** The configuration file the runtime option, KATA_CONF_FILE or the defaults name. */
    private static KataConfig configuration(Optional<Path> configPath) {
        try {
            return KataConfigLoader.load(configPath);
        } catch (ConfigException e) {
            throw new TtrpcException(StatusCode.INVALID_ARGUMENT, e.getMessage());
        }
    }

    /** The agent, once it answers; every call it makes is timed into the agent RPC histogram. */
    private static AgentClient dial(Hypervisor hypervisor, KataConfig.Agent settings, ShimMetrics metrics) throws IOException, InterruptedException {
        return AgentClient.builder(hypervisor.agentEndpoint())
                .observer((action, nanos, outcome) -> metrics.observeAgentRpc(action, nanos))
                .timeouts(AgentTimeouts.DEFAULTS.withCreateContainer(settings.createContainerTimeout()))
                .dialTimeout(settings.dialTimeout()).connect();
    }
}
