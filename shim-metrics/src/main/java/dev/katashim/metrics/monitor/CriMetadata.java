package dev.katashim.metrics.monitor;

import java.nio.file.Path;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Which Kubernetes pod a sandbox is, as containerd's CRI plugin wrote it into the sandbox's OCI
 * bundle: the annotations {@code io.kubernetes.cri.sandbox-uid}, {@code -name} and {@code -namespace}
 * (see {@link BundleAnnotations}). A sandbox not started through CRI (ctr, tests) has none: its
 * {@code cri_*} labels are then left out rather than made up. What a sandbox's bundle says is
 * remembered until the sandbox goes; a sandbox whose bundle is not found is looked up again next time.
 */
public final class CriMetadata {
    public static final Path DEFAULT_CONTAINERD_STATE = Path.of("/run/containerd");

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

    private final BundleAnnotations bundles;
    private final Map<String, Optional<Pod>> known = new ConcurrentHashMap<>();

    public CriMetadata(Path containerdState) {
        this.bundles = new BundleAnnotations(containerdState);
    }

    public Optional<Pod> lookup(String sandboxId) {
        Optional<Pod> pod = known.get(sandboxId);
        if (pod != null) {
            return pod;
        }
        Optional<Map<String, String>> annotations = bundles.of(sandboxId);
        if (annotations.isEmpty()) {
            return Optional.empty();
        }
        Optional<Pod> found = pod(annotations.get());
        known.put(sandboxId, found);
        return found;
    }

    /** Forgets sandboxes that are gone. */
    public void retain(Collection<String> sandboxIds) {
        known.keySet().retainAll(sandboxIds);
    }

    static Optional<Pod> pod(Map<String, String> annotations) {
        String uid = text(annotations, "io.kubernetes.cri.sandbox-uid");
        String name = text(annotations, "io.kubernetes.cri.sandbox-name");
        String namespace = text(annotations, "io.kubernetes.cri.sandbox-namespace");
        if (uid == null && name == null && namespace == null) {
            return Optional.empty();
        }
        return Optional.of(new Pod(uid, name, namespace));
    }

    static String text(Map<String, String> annotations, String key) {
        String value = annotations.get(key);
        return value == null || value.isEmpty() ? null : value;
    }
}
