package dev.katashim.metrics.monitor;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Which Kubernetes pod a sandbox is, as containerd's CRI plugin wrote it into the sandbox's OCI
 * bundle: the annotations {@code io.kubernetes.cri.sandbox-uid}, {@code -name} and {@code -namespace}
 * of {@code <containerd state>/io.containerd.runtime.v2.task/<namespace>/<sandbox id>/config.json}.
 * A sandbox not started through CRI (ctr, tests) has none: its {@code cri_*} labels are then left
 * out rather than made up. Found pods are remembered; a sandbox without them is looked up again next time.
 */
public final class CriMetadata {
    private static final Logger log = LoggerFactory.getLogger(CriMetadata.class);
    public static final Path DEFAULT_CONTAINERD_STATE = Path.of("/run/containerd");
    private static final String TASKS = "io.containerd.runtime.v2.task";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** A pod's identity. */
    public record Pod(String uid, String name, String namespace) {
        /** The labels kata-monitor adds: {@code cri_uid}, {@code cri_name}, {@code cri_namespace} (those known). */
        public Map<String, String> labels() {
            Map<String, String> labels = new LinkedHashMap<>();
            if (uid != null) {
                labels.put("cri_uid", uid);
            }
            if (name != null) {
                labels.put("cri_name", name);
            }
            if (namespace != null) {
                labels.put("cri_namespace", namespace);
            }
            return labels;
        }
    }

    private final Path containerdState;
    private final Map<String, Pod> known = new ConcurrentHashMap<>();

    public CriMetadata(Path containerdState) {
        this.containerdState = containerdState;
    }

    public Optional<Pod> lookup(String sandboxId) {
        Pod pod = known.get(sandboxId);
        if (pod != null) {
            return Optional.of(pod);
        }
        Path tasks = containerdState.resolve(TASKS);
        if (!Files.isDirectory(tasks)) {
            return Optional.empty();
        }
        try (DirectoryStream<Path> namespaces = Files.newDirectoryStream(tasks, Files::isDirectory)) {
            for (Path namespace : namespaces) {
                Path config = namespace.resolve(sandboxId).resolve("config.json");
                if (Files.isRegularFile(config)) {
                    Optional<Pod> found = read(config);
                    found.ifPresent(p -> known.put(sandboxId, p));
                    return found;
                }
            }
        } catch (IOException | RuntimeException e) {
            log.debug("no CRI metadata for {}: {}", sandboxId, e.toString());
        }
        return Optional.empty();
    }

    /** Forgets sandboxes that are gone. */
    public void retain(java.util.Collection<String> sandboxIds) {
        known.keySet().retainAll(sandboxIds);
    }

    static Optional<Pod> read(Path config) throws IOException {
        JsonNode annotations = JSON.readTree(config.toFile()).path("annotations");
        String uid = text(annotations, "io.kubernetes.cri.sandbox-uid");
        String name = text(annotations, "io.kubernetes.cri.sandbox-name");
        String namespace = text(annotations, "io.kubernetes.cri.sandbox-namespace");
        if (uid == null && name == null && namespace == null) {
            return Optional.empty();
        }
        return Optional.of(new Pod(uid, name, namespace));
    }

    private static String text(JsonNode node, String field) {
        JsonNode value = node.get(field);
        return value == null || !value.isTextual() || value.asText().isEmpty() ? null : value.asText();
    }
}
