package dev.katashim.metrics.monitor;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The annotations of a task's OCI bundle, where containerd's CRI plugin writes who a sandbox or
 * container is: {@code <containerd state>/io.containerd.runtime.v2.task/<namespace>/<id>/config.json}.
 * A bundle that is garbage, too big or without annotations reads as no annotations: the labels
 * made from them are left out, nothing fails.
 */
final class BundleAnnotations {
    private static final Logger log = LoggerFactory.getLogger(BundleAnnotations.class);
    private static final String TASKS = "io.containerd.runtime.v2.task";
    /** A real bundle's config.json is tens of KiB; more is not read (the monitor's heap is small). */
    static final int MAX_BYTES = 4 << 20;
    /** containerd's rule for ids (identifiers.Validate): an id from a sandbox's answer names no other path. */
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9]+(?:[._-][A-Za-z0-9]+)*");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path containerdState;

    BundleAnnotations(Path containerdState) {
        this.containerdState = containerdState;
    }

    /**
     * The string annotations of task {@code id}'s bundle, in any containerd namespace: empty when
     * there is no such bundle (yet); an empty map when it is there but says nothing readable.
     */
    Optional<Map<String, String>> of(String id) {
        Path tasks = containerdState.resolve(TASKS);
        if (id.length() > 76 || !ID.matcher(id).matches() || !Files.isDirectory(tasks)) {
            return Optional.empty();
        }
        try (DirectoryStream<Path> namespaces = Files.newDirectoryStream(tasks, Files::isDirectory)) {
            for (Path namespace : namespaces) {
                Path config = namespace.resolve(id).resolve("config.json");
                if (Files.isRegularFile(config)) {
                    return Optional.of(read(config));
                }
            }
        } catch (IOException | RuntimeException e) {
            log.debug("cannot list {}: {}", tasks, e.toString());
        }
        return Optional.empty();
    }

    static Map<String, String> read(Path config) {
        try {
            byte[] bytes;
            try (InputStream in = Files.newInputStream(config)) {
                bytes = in.readNBytes(MAX_BYTES + 1);
            }
            if (bytes.length > MAX_BYTES) {
                throw new IOException("larger than " + (MAX_BYTES >> 20) + " MiB");
            }
            return annotations(bytes);
        } catch (IOException | RuntimeException e) {
            log.warn("{}: not read, no CRI labels from it: {}", config, String.valueOf(e.getMessage()).lines().findFirst().orElse(""));
            return Map.of();
        }
    }

    /** Reads only the top-level {@code annotations} object (streaming: the rest is skipped). */
    private static Map<String, String> annotations(byte[] json) throws IOException {
        try (JsonParser parser = JSON.createParser(json)) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                throw new IOException("not a JSON object");
            }
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String field = parser.currentName();
                JsonToken value = parser.nextToken();
                if (field.equals("annotations") && value == JsonToken.START_OBJECT) {
                    Map<String, String> annotations = new LinkedHashMap<>();
                    while (parser.nextToken() == JsonToken.FIELD_NAME) {
                        String key = parser.currentName();
                        if (parser.nextToken() == JsonToken.VALUE_STRING) {
                            annotations.put(key, parser.getText());
                        } else {
                            parser.skipChildren();
                        }
                    }
                    return annotations;
                }
                parser.skipChildren();
            }
            return Map.of();
        }
    }
}
