package dev.katashim.metrics.monitor;

import dev.katashim.metrics.expo.MetricFamily;
import dev.katashim.metrics.expo.Sample;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * cAdvisor's label names on the per-container samples of a CRI pod, so that dashboards built on
 * {@code container_*{namespace, pod, container}} work over {@code kata_container_*}: every sample of
 * a {@code kata_container_*} family that has a {@code container_id} gets {@code pod} and
 * {@code namespace} (the pod's), and {@code container}, the CRI name of the container
 * ({@code io.kubernetes.cri.container-name} in its bundle). The pod's sandbox (pause) container has
 * no such name and gets no {@code container}, as cAdvisor labels a containerd pod's pause container.
 * Samples of a sandbox that is no CRI pod get none of them. A container's name, or that it has none,
 * is remembered until the container stops being served.
 */
public final class KubernetesLabels {
    static final String FAMILY_PREFIX = "kata_container_";
    static final String CONTAINER_NAME = "io.kubernetes.cri.container-name";

    private final BundleAnnotations bundles;
    private final Map<String, Optional<String>> names = new ConcurrentHashMap<>();

    public KubernetesLabels(Path containerdState) {
        this.bundles = new BundleAnnotations(containerdState);
    }

    /**
     * {@code families} with the labels added to the per-container samples of {@code pod}'s sandbox
     * (unchanged when it is no CRI pod); the container ids met are added to {@code seen}.
     */
    public List<MetricFamily> add(List<MetricFamily> families, Optional<CriMetadata.Pod> pod, Collection<String> seen) {
        if (pod.isEmpty()) {
            return families;
        }
        Map<String, Map<String, String>> byContainer = new HashMap<>();
        List<MetricFamily> labelled = new ArrayList<>(families.size());
        for (MetricFamily family : families) {
            if (!family.name().startsWith(FAMILY_PREFIX)) {
                labelled.add(family);
                continue;
            }
            List<Sample> samples = new ArrayList<>(family.samples().size());
            for (Sample sample : family.samples()) {
                String id = sample.label("container_id");
                if (id != null) {
                    for (Map.Entry<String, String> label : byContainer.computeIfAbsent(id, c -> labels(c, pod.get())).entrySet()) {
                        sample = sample.withLabel(label.getKey(), label.getValue());
                    }
                }
                samples.add(sample);
            }
            labelled.add(new MetricFamily(family.name(), family.type(), family.help(), family.unit(), samples));
        }
        seen.addAll(byContainer.keySet());
        return labelled;
    }

    private Map<String, String> labels(String containerId, CriMetadata.Pod pod) {
        Map<String, String> labels = new LinkedHashMap<>();
        name(containerId).ifPresent(name -> labels.put("container", name));
        if (pod.name() != null) {
            labels.put("pod", pod.name());
        }
        if (pod.namespace() != null) {
            labels.put("namespace", pod.namespace());
        }
        return labels;
    }

    /** The container's CRI name: looked up once its bundle is there, then remembered. */
    Optional<String> name(String containerId) {
        Optional<String> known = names.get(containerId);
        if (known != null) {
            return known;
        }
        Optional<Map<String, String>> annotations = bundles.of(containerId);
        if (annotations.isEmpty()) {
            return Optional.empty();
        }
        Optional<String> name = Optional.ofNullable(CriMetadata.text(annotations.get(), CONTAINER_NAME));
        names.put(containerId, name);
        return name;
    }

    /** Forgets the containers not in {@code containerIds} (those no longer served). */
    public void retain(Collection<String> containerIds) {
        names.keySet().retainAll(containerIds);
    }
}
