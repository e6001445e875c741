package dev.katashim.agent.client;

import dev.katashim.protocols.kata.agent.CheckRequest;
import dev.katashim.protocols.kata.agent.HealthCheckResponse;
import dev.katashim.ttrpc.client.CallOptions;
import dev.katashim.ttrpc.client.TtrpcClient;
import dev.katashim.ttrpc.observe.CallObserver;
import dev.katashim.ttrpc.status.StatusCode;
import dev.katashim.ttrpc.status.TtrpcException;
import dev.katashim.ttrpc.transport.Endpoint;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Duration;

/**
 * Reaches an agent that may still be booting: connects with exponential backoff, then waits for a
 * SERVING health check, all within one deadline. A virtio-serial port exposed on the host as a
 * unix socket accepts the connection before the guest opens it, so only an answered Check proves
 * that the agent is there.
 */
final class AgentDialer {
    private static final Logger log = LoggerFactory.getLogger(AgentDialer.class);
    private static final Duration FIRST_BACKOFF = Duration.ofMillis(10);
    private static final Duration MAX_BACKOFF = Duration.ofMillis(500);
    private static final Duration PROBE_TIMEOUT = Duration.ofSeconds(1);

    private AgentDialer() {
    }

    static TtrpcClient dial(Endpoint endpoint, Duration within, CallObserver observer) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        Duration backoff = FIRST_BACKOFF;
        String lastProblem = "never tried";
        while (true) {
            TtrpcClient client = null;
            try {
                client = TtrpcClient.builder(endpoint).observer(observer).connectTimeout(capped(PROBE_TIMEOUT, deadline)).connect();
                while (client.isOpen()) {
                    try {
                        HealthCheckResponse health = client.blockingCall(AgentActions.HEALTH_SERVICE, "Check", CheckRequest.getDefaultInstance(),
                                HealthCheckResponse.parser(), CallOptions.timeout(capped(PROBE_TIMEOUT, deadline)));
                        if (health.getStatus() == HealthCheckResponse.ServingStatus.SERVING) {
                            return client;
                        }
                        lastProblem = "health check answered " + health.getStatus();
                    } catch (TtrpcException e) {
                        lastProblem = "health check: " + e.getMessage();
                        if (e.code() != StatusCode.DEADLINE_EXCEEDED) {
                            break; // reconnect
                        }
                    }
                    if (System.nanoTime() >= deadline) {
                        break;
                    }
                }
            } catch (IOException e) {
                lastProblem = e.getMessage();
            } catch (InterruptedException e) {
                if (client != null) {
                    client.close(); // the caller gives up the dial: nothing of it stays open
                }
                throw e;
            }
            if (client != null) {
                client.close();
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new IOException("the agent at " + endpoint + " did not answer within " + within.toMillis()
                        + " ms (last: " + lastProblem + ")");
            }
            log.debug("agent at {} not ready ({}); retrying in {} ms", endpoint, lastProblem, backoff.toMillis());
            Thread.sleep(Math.min(backoff.toMillis(), Math.max(1, left / 1_000_000)));
            backoff = backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : backoff.multipliedBy(2);
        }
    }

    private static Duration capped(Duration wanted, long deadlineNanos) {
        long left = deadlineNanos - System.nanoTime();
        return Duration.ofNanos(Math.max(Duration.ofMillis(50).toNanos(), Math.min(wanted.toNanos(), left)));
    }
}
