package dev.katashim.shim.sandbox;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * The shim's settings from its environment (Kata's configuration file holds the rest):
 * {@code KATA_SHIM_AGENT} is the host agent's command for the no-VM sandbox (the launcher sets it),
 * {@code KATA_SHIM_SANDBOX_ROOT} where sandbox directories live, {@code KATA_SHIM_KEPT_LOGS} where
 * the console logs of guests that failed or died are kept.
 */
public record ShimConfig(List<String> agentCommand, Path sandboxRoot, KeptConsoleLogs keptLogs) {

    public static ShimConfig fromEnvironment() {
        String agent = System.getenv("KATA_SHIM_AGENT");
        List<String> command = agent == null || agent.isBlank() ? List.of("kata-guest-agent")
                : Arrays.asList(agent.trim().split("\\s+"));
        return new ShimConfig(command, SandboxDirectory.root(), KeptConsoleLogs.fromEnvironment());
    }
}
