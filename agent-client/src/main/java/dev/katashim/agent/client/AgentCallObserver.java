package dev.katashim.agent.client;

import dev.katashim.ttrpc.observe.CallObserver;
import dev.katashim.ttrpc.status.StatusCode;

/**
 * Sees every agent call once it ends: its action ({@code grpc.CreateContainerRequest}, ...), how
 * long it took, and how it ended. The metrics module feeds its agent RPC histogram from this.
 */
@FunctionalInterface
public interface AgentCallObserver {
    void observed(String action, long durationNanos, StatusCode outcome);

    /** The ttrpc-level interceptor that reports to this observer under the metrics action names. */
    default CallObserver asTtrpcObserver() {
        return call -> observed(AgentActions.of(call.service(), call.method()), call.durationNanos(), call.status());
    }
}
