package dev.katashim.shim.oci;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.katashim.ttrpc.status.StatusCode;
import dev.katashim.ttrpc.status.TtrpcException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

/** An OCI bundle as containerd lays it out: {@code config.json} and {@code rootfs/}. */
public record Bundle(Path path, JsonNode config) {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Reads {@code config.json}; a missing or unparsable file is INVALID_ARGUMENT naming it. */
    public static Bundle read(Path path) {
        Path config = path.resolve("config.json");
        try {
            JsonNode tree = JSON.readTree(Files.readAllBytes(config));
            if (tree == null || !tree.isObject()) {
                throw new TtrpcException(StatusCode.INVALID_ARGUMENT, "cannot parse " + config + ": not a JSON object");
            }
            return new Bundle(path, tree);
        } catch (NoSuchFileException e) {
            throw new TtrpcException(StatusCode.INVALID_ARGUMENT, "the bundle has no config.json: " + config + " does not exist");
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            // a limit (nesting over 1000, a huge number) has no location
            String at = e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr();
            throw new TtrpcException(StatusCode.INVALID_ARGUMENT, "cannot parse " + config + ": " + e.getOriginalMessage() + at);
        } catch (IOException e) {
            throw new TtrpcException(StatusCode.INVALID_ARGUMENT, "cannot read " + config + ": " + e.getMessage());
        }
    }

    public Map<String, String> annotations() {
        Map<String, String> map = new TreeMap<>();
        config.path("annotations").fields().forEachRemaining(e -> map.put(e.getKey(), e.getValue().asText()));
        return map;
    }

    public JsonNode process() {
        return config.path("process");
    }

    /** The root filesystem as an absolute host path (a relative root.path is relative to the bundle). */
    public Path rootPath() {
        String root = config.path("root").path("path").asText("rootfs");
        return path.resolve(root).normalize();
    }

    public static JsonNode parseJson(byte[] json, String what) {
        try {
            return JSON.readTree(json);
        } catch (IOException e) {
            throw new TtrpcException(StatusCode.INVALID_ARGUMENT, "cannot parse " + what + ": " + e.getMessage());
        }
    }
}
