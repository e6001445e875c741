package dev.katashim.agent.client;

import java.time.Duration;
import java.util.Set;

/**
 * How long each agent call may take, as upstream's runtime decides: no limit for the calls that
 * block by design (WaitProcess, GetOOMEvent, ReadStdout, ReadStderr), a health-check limit for
 * Check, and one default for everything else. A container's creation has its own limit
 * (upstream's {@code create_container_timeout}); it covers StartContainer too, because our agent
 * has runc make the container's process there (upstream's agent makes it at CreateContainer).
 * The agent is sent each deadline and gives runc what is left of it.
 */
public record AgentTimeouts(Duration check, Duration createContainer, Duration other) {
    public static final AgentTimeouts DEFAULTS = new AgentTimeouts(Duration.ofSeconds(30), Duration.ofSeconds(60), Duration.ofSeconds(60));

    private static final Set<String> BLOCKING = Set.of("WaitProcess", "GetOOMEvent", "ReadStdout", "ReadStderr");

    /** The defaults with {@code createContainer} as the limit of a container's creation. */
    public AgentTimeouts withCreateContainer(Duration createContainer) {
        return new AgentTimeouts(check, createContainer, other);
    }

    /** The timeout of {@code method}, or null for none. */
    public Duration forMethod(String method) {
        if (BLOCKING.contains(method)) {
            return null;
        }
        return switch (method) {
            case "Check", "Version" -> check;
            case "CreateContainer", "StartContainer" -> createContainer;
            default -> other;
        };
    }
}
