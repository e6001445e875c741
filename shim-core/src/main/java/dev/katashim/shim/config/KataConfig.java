package dev.katashim.shim.config;

import java.nio.file.Path;
import java.time.Duration;

/**
 * The settings of Kata's {@code configuration.toml} this shim uses: the hypervisor section,
 * {@code [agent.kata]} and {@code [runtime]}; {@code source} is the file they came from.
 */
public record KataConfig(Path source, HypervisorSettings hypervisor, Agent agent, Runtime runtime) {

    /**
     * {@code [agent.kata]}: {@code dial_timeout} (seconds, as upstream), {@code enable_debug} (or
     * {@code debug}): the agent logs at debug level, and {@code create_container_timeout} (seconds,
     * default 60; upstream's Go runtime reads it from {@code [runtime]}, runtime-rs from
     * {@code [agent.kata]}: both are read) for a container's creation and start in the guest.
     */
    public record Agent(Duration dialTimeout, boolean debug, Duration createContainerTimeout) {
        public static final Duration DEFAULT_CREATE_CONTAINER_TIMEOUT = Duration.ofSeconds(60);
    }

    /**
     * {@code [runtime]}: {@code enable_debug}, {@code sandbox_cgroup_only}, and ours,
     * {@code metrics_refresh_period} (seconds, default 5): how often the agent's metrics are fetched
     * in the background for {@code /metrics}.
     */
    public record Runtime(boolean enableDebug, boolean sandboxCgroupOnly, Duration metricsRefreshPeriod) {
        public static final Duration DEFAULT_METRICS_REFRESH = Duration.ofSeconds(5);

        public Runtime(boolean enableDebug, boolean sandboxCgroupOnly) {
            this(enableDebug, sandboxCgroupOnly, DEFAULT_METRICS_REFRESH);
        }
    }
}
