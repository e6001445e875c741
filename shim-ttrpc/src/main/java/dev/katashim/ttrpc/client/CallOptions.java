package dev.katashim.ttrpc.client;

import dev.katashim.protocols.ttrpc.KeyValue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Per-call settings: a timeout (sent to the server as {@code timeout_nano} and enforced locally;
 * null for none) and metadata key/value pairs.
 */
public record CallOptions(Duration timeout, List<KeyValue> metadata) {
    public static final CallOptions DEFAULT = new CallOptions(null, List.of());

    public CallOptions {
        metadata = List.copyOf(metadata);
        if (timeout != null && (timeout.isNegative() || timeout.isZero())) {
            throw new IllegalArgumentException("a call timeout must be positive, got " + timeout);
        }
    }

    public static CallOptions timeout(Duration timeout) {
        return new CallOptions(timeout, List.of());
    }

    public CallOptions withTimeout(Duration newTimeout) {
        return new CallOptions(newTimeout, metadata);
    }

    public CallOptions withMetadata(String key, String value) {
        List<KeyValue> more = new ArrayList<>(metadata);
        more.add(KeyValue.newBuilder().setKey(key).setValue(value).build());
        return new CallOptions(timeout, more);
    }
}
