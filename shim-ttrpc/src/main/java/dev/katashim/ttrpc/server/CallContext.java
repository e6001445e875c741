package dev.katashim.ttrpc.server;

import java.util.List;
import java.util.Map;

/**
 * What a handler knows about its call besides the request: the method, the caller's metadata
 * (ttrpc's key/value list; a key may repeat), and its deadline ({@code 0} when the caller set none).
 */
public record CallContext(String service, String method, Map<String, List<String>> metadata, long deadlineNanoTime) {

    /** The first value of a metadata key, or null. */
    public String metadataValue(String key) {
        List<String> values = metadata.get(key);
        return values == null || values.isEmpty() ? null : values.getFirst();
    }

    public boolean hasDeadline() {
        return deadlineNanoTime != 0;
    }
}
