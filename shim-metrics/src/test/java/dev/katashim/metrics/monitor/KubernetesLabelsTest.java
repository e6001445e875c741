package dev.katashim.metrics.monitor;

import dev.katashim.metrics.expo.MetricFamily;
import dev.katashim.metrics.expo.MetricType;
import dev.katashim.metrics.expo.Sample;
import dev.katashim.metrics.support.ContainerdBundles;
import dev.katashim.metrics.support.TestSandbox;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** cAdvisor's labels from bundles laid out as containerd keeps them, in a temp state directory. */
class KubernetesLabelsTest {
    private static final CriMetadata.Pod POD = new CriMetadata.Pod("uid-1", "web-0", "shop");
    private Path state;
    private ContainerdBundles bundles;
    private KubernetesLabels kubernetes;

    @BeforeEach
    void prepare() throws Exception {
        state = Files.createTempDirectory(Path.of("/tmp"), "ksm-k8s");
        bundles = new ContainerdBundles(state);
        kubernetes = new KubernetesLabels(state);
    }

    @AfterEach
    void cleanUp() throws Exception {
        TestSandbox.deleteTree(state);
    }

    /** What a sandbox's socket serves, sandbox_id already added: one working-set sample per container, one other family. */
    private static List<MetricFamily> served(String... containerIds) {
        List<Sample> samples = new java.util.ArrayList<>();
        for (String id : containerIds) {
            samples.add(Sample.of("kata_container_memory_working_set_bytes", 1024, "container_id", id, "sandbox_id", "sb-1"));
        }
        return List.of(new MetricFamily("kata_shim_threads", MetricType.GAUGE, "threads", List.of(Sample.of("kata_shim_threads", 9,
                        "sandbox_id", "sb-1"))),
                new MetricFamily("kata_container_memory_working_set_bytes", MetricType.GAUGE, "ws", "bytes", samples));
    }

    private Map<String, Map<String, String>> labelsByContainer(List<MetricFamily> families) {
        Map<String, Map<String, String>> byContainer = new LinkedHashMap<>();
        for (Sample s : families.get(1).samples()) {
            Map<String, String> labels = new LinkedHashMap<>();
            s.labels().forEach(l -> labels.put(l.name(), l.value()));
            byContainer.put(s.label("container_id"), labels);
        }
        return byContainer;
    }

    @Test
    void aPodsContainersGetTheirCriNameAndThePodsNameAndNamespaceThePauseContainerNoName() throws Exception {
        bundles.sandbox("sb-1", "uid-1", "web-0", "shop");
        bundles.container("app-1", "sb-1", "app");
        Set<String> seen = new HashSet<>();

        List<MetricFamily> labelled = kubernetes.add(served("sb-1", "app-1"), Optional.of(POD), seen);

        Map<String, Map<String, String>> byContainer = labelsByContainer(labelled);
        assertThat(byContainer.get("app-1")).containsEntry("container", "app").containsEntry("pod", "web-0")
                .containsEntry("namespace", "shop").containsEntry("sandbox_id", "sb-1");
        assertThat(byContainer.get("sb-1")).doesNotContainKey("container").containsEntry("pod", "web-0").containsEntry("namespace", "shop");
        assertThat(labelled.get(0)).as("other families are left alone").isEqualTo(served().get(0));
        assertThat(seen).containsExactlyInAnyOrder("sb-1", "app-1");
    }

    @Test
    void aSandboxThatIsNoCriPodGetsNoneOfThem() throws Exception {
        bundles.write("default", "ctr-app", "{\"ociVersion\":\"1.0.2-dev\",\"annotations\":{}}");
        List<MetricFamily> labelled = kubernetes.add(served("ctr-app"), Optional.empty(), new HashSet<>());
        assertThat(labelsByContainer(labelled).get("ctr-app")).containsOnlyKeys("container_id", "sandbox_id");
    }

    @Test
    void garbageHugeOrSilentBundlesGiveNoContainerLabelAndSpoilNothingElse() throws Exception {
        bundles.container("app-1", "sb-1", "app");
        bundles.write("k8s.io", "garbage", "\u0000\u0007{{{ not json at all");
        bundles.write("k8s.io", "nested", "{\"annotations\":" + "{\"a\":".repeat(100_000));
        bundles.write("k8s.io", "number-name", "{\"annotations\":{\"io.kubernetes.cri.container-name\":42}}");
        bundles.write("k8s.io", "no-annotations", "{\"ociVersion\":\"1.0.2-dev\",\"process\":{}}");
        bundles.write("k8s.io", "empty", "");
        // a well-formed bundle naming its container, but past the size the monitor reads
        bundles.write("k8s.io", "huge", "{\"annotations\":{\"io.kubernetes.cri.container-name\":\"too-big\"},\"padding\":\""
                + "x".repeat(BundleAnnotations.MAX_BYTES) + "\"}");
        Files.createDirectories(state.resolve("io.containerd.runtime.v2.task/k8s.io/a-directory/config.json"));
        // what a container_id of "../../escape" would reach if it were taken as a path
        Files.writeString(Files.createDirectories(state.resolve("escape")).resolve("config.json"),
                "{\"annotations\":{\"io.kubernetes.cri.container-name\":\"escaped\"}}");
        String[] ids = {"app-1", "garbage", "nested", "number-name", "no-annotations", "empty", "huge", "a-directory",
                "no-bundle", "../../escape"};

        Map<String, Map<String, String>> byContainer = labelsByContainer(kubernetes.add(served(ids), Optional.of(POD), new HashSet<>()));

        assertThat(byContainer.get("app-1")).containsEntry("container", "app");
        for (String id : List.of(ids).subList(1, ids.length)) {
            assertThat(byContainer.get(id)).as(id).doesNotContainKey("container").containsEntry("pod", "web-0")
                    .containsEntry("namespace", "shop");
        }
    }

    @Test
    void aNameIsReadOnceWhileServedAndForgottenWhenTheContainerGoes() throws Exception {
        Path bundle = bundles.container("app-1", "sb-1", "app");
        Set<String> seen = new HashSet<>();
        kubernetes.add(served("app-1"), Optional.of(POD), seen);
        kubernetes.retain(seen);
        bundles.container("app-1", "sb-1", "renamed"); // the file changes: a remembered name does not
        assertThat(kubernetes.name("app-1")).hasValue("app");

        Set<String> next = new HashSet<>();
        kubernetes.add(served(), Optional.of(POD), next); // app-1 no longer served
        kubernetes.retain(next);
        assertThat(kubernetes.name("app-1")).as("read again").hasValue("renamed");
        Files.delete(bundle);
        kubernetes.retain(Set.of());
        assertThat(kubernetes.name("app-1")).isEmpty();
        bundles.container("app-1", "sb-1", "late"); // a bundle not there yet is looked for again
        assertThat(kubernetes.name("app-1")).hasValue("late");
    }
}
