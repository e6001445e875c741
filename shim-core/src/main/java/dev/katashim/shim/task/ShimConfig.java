package dev.katashim.shim.task;

import dev.katashim.shim.sandbox.SandboxDirectory;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;

/**
 * The shim's settings for this backend. {@code KATA_SHIM_AGENT} is the guest agent's
 * command (the launcher sets it), {@code KATA_SHIM_SANDBOX_ROOT} where sandbox directories live.
 */
public record ShimConfig(List<String> agentCommand, Path sandboxRoot, Duration agentDialTimeout) {

    public static ShimConfig fromEnvironment() {
        String agent = System.getenv("KATA_SHIM_AGENT");
        List<String> command = agent == null || agent.isBlank() ? List.of("kata-guest-agent")
                : Arrays.asList(agent.trim().split("\\s+"));
        return new ShimConfig(command, SandboxDirectory.root(), Duration.ofSeconds(30));
    }
}
