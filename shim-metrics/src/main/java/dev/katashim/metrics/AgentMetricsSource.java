package dev.katashim.metrics;

/**
 * The agent's metrics as Prometheus text (the {@code metrics} field of its GetMetrics answer). The
 * shim implements it with its agent client:
 * <pre>{@code () -> agent.getMetrics(GetMetricsRequest.getDefaultInstance()).getMetrics()}</pre>
 * It may block; {@link SandboxMetrics} bounds it with its own timeout and never lets a failure or
 * a malformed text break a scrape.
 */
@FunctionalInterface
public interface AgentMetricsSource {
    String fetch() throws Exception;
}
