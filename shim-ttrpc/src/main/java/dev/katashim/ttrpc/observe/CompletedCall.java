package dev.katashim.ttrpc.observe;

import dev.katashim.ttrpc.status.StatusCode;

/** What an interceptor learns about each finished call: which method, how long, how it ended. */
public record CompletedCall(String service, String method, long durationNanos, StatusCode status) {
    public double durationMillis() {
        return durationNanos / 1_000_000.0;
    }
}
