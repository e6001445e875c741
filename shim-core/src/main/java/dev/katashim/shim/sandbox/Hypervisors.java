package dev.katashim.shim.sandbox;

import dev.katashim.shim.config.HypervisorSettings;
import dev.katashim.shim.config.KataConfig;

import java.util.List;

/** The hypervisor a configuration file asks for. */
public final class Hypervisors {
    private Hypervisors() {
    }

    /** @param defaultAgentCommand the host agent's command when {@code [hypervisor.none]} names none */
    public static Hypervisor create(KataConfig config, List<String> defaultAgentCommand) {
        return switch (config.hypervisor()) {
            case HypervisorSettings.None none -> new HostAgentHypervisor(
                    none.agentCommand().isEmpty() ? defaultAgentCommand : none.agentCommand());
            case HypervisorSettings.Qemu qemu -> new QemuBackend(qemu);
        };
    }
}
