package dev.katashim.shim.sandbox;

import dev.katashim.metrics.ShimMetrics;
import dev.katashim.shim.oci.Bundle;
import dev.katashim.shim.resource.cgroup.PodCgroupPath;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * The one sandbox a shim serves. containerd starts a shim just before it sends the Create for the
 * sandbox, so the shim begins booting at once ({@link #prestart}) and the VM's boot overlaps with
 * the shim's own start-up; the Create takes that sandbox over if it asks for the same one with the
 * same configuration, and otherwise the early boot is stopped and a new one booted. A shim told to
 * stop (its Shutdown, or SIGTERM) while a boot is under way interrupts it: the boot undoes its
 * steps at once instead of waiting out the agent's dial timeout.
 */
public final class ShimSandboxes implements Sandboxes {
    private static final Logger log = LoggerFactory.getLogger(ShimSandboxes.class);

    private final ShimConfig config;
    private final ShimMetrics metrics;
    /** The boot begun when the shim started, until a Create takes it over. */
    private volatile Boot prestarted;
    /** The boot whose sandbox the Create opens (the early one it took over, or its own): the sandbox this shim serves. */
    private volatile Boot claimed;

    /** One sandbox's boot, on a thread of its own so that it can be interrupted; {@link #start} begins it. */
    private record Boot(String id, Optional<Path> configPath, CompletableFuture<AgentSandbox> booting, Thread thread) {
        static Boot of(String sandboxId, Optional<Path> configPath, Optional<String> podCgroupsPath, ShimConfig config,
                       ShimMetrics metrics) {
            CompletableFuture<AgentSandbox> booting = new CompletableFuture<>();
            Thread thread = Thread.ofVirtual().name("boot-" + sandboxId).unstarted(() -> {
                try {
                    booting.complete(SandboxBoot.boot(sandboxId, configPath, podCgroupsPath, config, metrics));
                } catch (Throwable e) {
                    booting.completeExceptionally(e);
                }
            });
            return new Boot(sandboxId, configPath, booting, thread);
        }

        Boot start() {
            thread.start();
            return this;
        }

        /** The booted sandbox, or the boot's own failure. */
        AgentSandbox join() throws Exception {
            try {
                return booting.join();
            } catch (CompletionException e) {
                throw e.getCause() instanceof Exception cause ? cause : e;
            }
        }

        /** Interrupts a boot under way (it cleans up after itself) and destroys a sandbox it booted; completes once both are done. */
        CompletableFuture<Void> abandon() {
            thread.interrupt();
            return booting.thenAccept(AgentSandbox::destroy).exceptionally(t -> null);
        }
    }

    public ShimSandboxes(ShimConfig config, ShimMetrics metrics) {
        this.config = config;
        this.metrics = metrics;
    }

    /**
     * Starts booting sandbox {@code sandboxId} in the background, with the configuration {@code start}
     * was given; a CRI pod's VM goes into {@code podCgroupsPath}'s pod cgroup (see PodCgroupPath).
     */
    public void prestart(String sandboxId, Optional<Path> configPath, Optional<String> podCgroupsPath) {
        Boot early = Boot.of(sandboxId, configPath, podCgroupsPath, config, metrics);
        prestarted = early;
        early.start();
    }

    @Override
    public Sandbox open(String sandboxId, Optional<Path> configPath, Bundle bundle) throws Exception {
        AgentSandbox sandbox = takeOrBoot(sandboxId, configPath, PodCgroupPath.of(bundle.config()));
        try {
            sandbox.create(bundle);
        } catch (Exception e) {
            sandbox.destroy();
            throw e;
        }
        return sandbox;
    }

    private AgentSandbox takeOrBoot(String sandboxId, Optional<Path> configPath, Optional<String> podCgroupsPath) throws Exception {
        Boot early = prestarted;
        if (early != null && early.id().equals(sandboxId) && (configPath.isEmpty() || configPath.equals(early.configPath()))) {
            claimed = early; // claimed before it stops being prestarted: a shutdown meanwhile sees it either way
            prestarted = null;
            return early.join();
        }
        Boot own = Boot.of(sandboxId, configPath, podCgroupsPath, config, metrics);
        claimed = own; // before it starts: a shutdown finds every boot that runs
        prestarted = null;
        if (early != null) {
            log.info("sandbox {}: Create asked for {} with {}; stopping the early boot", early.id(), sandboxId, configPath);
            early.abandon();
        }
        return own.start().join();
    }

    @Override
    public void shutdown() {
        Boot early = prestarted;
        prestarted = null;
        Boot current = claimed;
        if (early != null) {
            early.abandon().join();
        }
        if (current != null && current != early) {
            current.abandon().join();
        }
    }
}
