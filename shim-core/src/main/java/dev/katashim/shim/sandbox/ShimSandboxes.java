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
 * same configuration, and otherwise the early boot is stopped and a new one booted.
 */
public final class ShimSandboxes implements Sandboxes {
    private static final Logger log = LoggerFactory.getLogger(ShimSandboxes.class);

    private final ShimConfig config;
    private final ShimMetrics metrics;
    private volatile Prestarted prestarted;
    private volatile AgentSandbox open;

    /** A boot begun when the shim started, before containerd's Create asked for it. */
    private record Prestarted(String id, Optional<Path> configPath, CompletableFuture<AgentSandbox> booting) {
        /** Stops it once its boot is over, whatever the outcome. */
        void abandon() {
            booting.thenAccept(AgentSandbox::destroy).exceptionally(t -> null);
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
        CompletableFuture<AgentSandbox> booting = new CompletableFuture<>();
        prestarted = new Prestarted(sandboxId, configPath, booting);
        Thread.ofVirtual().name("boot-" + sandboxId).start(() -> {
            try {
                booting.complete(SandboxBoot.boot(sandboxId, configPath, podCgroupsPath, config, metrics));
            } catch (Throwable e) {
                booting.completeExceptionally(e);
            }
        });
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
        open = sandbox;
        return sandbox;
    }

    private AgentSandbox takeOrBoot(String sandboxId, Optional<Path> configPath, Optional<String> podCgroupsPath) throws Exception {
        Prestarted early = prestarted;
        prestarted = null;
        if (early != null) {
            if (early.id().equals(sandboxId) && (configPath.isEmpty() || configPath.equals(early.configPath()))) {
                try {
                    return early.booting().join();
                } catch (CompletionException e) {
                    throw e.getCause() instanceof Exception cause ? cause : e;
                }
            }
            log.info("sandbox {}: Create asked for {} with {}; stopping the early boot", early.id(), sandboxId, configPath);
            early.abandon();
        }
        return SandboxBoot.boot(sandboxId, configPath, podCgroupsPath, config, metrics);
    }

    @Override
    public void shutdown() {
        Prestarted early = prestarted;
        prestarted = null;
        if (early != null) {
            early.booting().thenAccept(AgentSandbox::destroy).exceptionally(t -> null).join();
        }
        AgentSandbox current = open;
        if (current != null) {
            current.destroy();
        }
    }
}
