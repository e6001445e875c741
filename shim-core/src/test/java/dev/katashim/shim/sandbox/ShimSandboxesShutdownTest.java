package dev.katashim.shim.sandbox;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.katashim.metrics.ShimMetrics;
import dev.katashim.shim.oci.Bundle;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A shim told to stop (Shutdown, or SIGTERM through its exit hook) while its sandbox still boots:
 * the boot is interrupted and undone at once, not waited for until the agent's dial timeout ends
 * it. The agent here never answers (a host agent that only sleeps), so only the interrupt can end
 * the boot before {@link #DIAL_TIMEOUT_SECONDS}.
 */
class ShimSandboxesShutdownTest {
    private static final int DIAL_TIMEOUT_SECONDS = 600;
    /** How long the boot may take to reach the agent's dial on a loaded machine. */
    private static final Duration REACHES_THE_DIAL = Duration.ofSeconds(60);
    /** Interrupted, the boot stops its agent and removes its directory: seconds, far below the dial timeout. */
    private static final Duration UNDONE_WITHIN = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    private final String sandboxId = "sb-" + UUID.randomUUID().toString().substring(0, 8);

    private ShimSandboxes sandboxes() {
        // our flags follow the command: sh takes them as its positional parameters and sleeps
        ShimConfig config = new ShimConfig(List.of("/bin/sh", "-c", "exec sleep 3600", "agent"), dir.resolve("sbs"),
                new KeptConsoleLogs(dir.resolve("kept")));
        return new ShimSandboxes(config, new ShimMetrics());
    }

    private Optional<Path> configuration() throws Exception {
        return Optional.of(Files.writeString(dir.resolve("none.toml"),
                "[hypervisor.none]\n\n[agent.kata]\ndial_timeout = " + DIAL_TIMEOUT_SECONDS + "\n"));
    }

    private SandboxDirectory directory() {
        return SandboxDirectory.of(dir.resolve("sbs"), sandboxId);
    }

    /** The agent's pid, once the boot dials it (the pid file is written just before). */
    private long agentDialled() {
        await().atMost(REACHES_THE_DIAL).until(() -> SandboxDirectory.readPid(directory().hypervisorPidFile()).isPresent());
        return SandboxDirectory.readPid(directory().hypervisorPidFile()).orElseThrow();
    }

    private void assertUndone(long agentPid) {
        assertThat(ProcessHandle.of(agentPid).map(ProcessHandle::isAlive)).as("the host agent").isNotEqualTo(Optional.of(true));
        assertThat(directory().path()).as("the sandbox directory").doesNotExist();
    }

    @Test
    void shutdownDuringTheEarlyBootInterruptsItAndLeavesNothing() throws Exception {
        ShimSandboxes sandboxes = sandboxes();
        sandboxes.prestart(sandboxId, configuration(), Optional.empty());
        long agent = agentDialled();

        CompletableFuture.runAsync(sandboxes::shutdown).get(UNDONE_WITHIN.toSeconds(), TimeUnit.SECONDS);
        assertUndone(agent);
    }

    @Test
    void shutdownWhileACreateWaitsForItsBootFailsTheCreateAndLeavesNothing() throws Exception {
        ShimSandboxes sandboxes = sandboxes();
        Optional<Path> configuration = configuration();
        // no early boot: the agent's pid file then proves that the Create's own boot runs
        Bundle bundle = new Bundle(Files.createDirectories(dir.resolve("bundle")), JsonNodeFactory.instance.objectNode());
        CompletableFuture<Sandbox> create = CompletableFuture.supplyAsync(() -> {
            try {
                return sandboxes.open(sandboxId, configuration, bundle);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        long agent = agentDialled();

        CompletableFuture.runAsync(sandboxes::shutdown).get(UNDONE_WITHIN.toSeconds(), TimeUnit.SECONDS);
        assertThat(create).failsWithin(UNDONE_WITHIN);
        assertUndone(agent);
    }
}
