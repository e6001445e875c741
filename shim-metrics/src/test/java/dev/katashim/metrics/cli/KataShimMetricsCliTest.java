package dev.katashim.metrics.cli;

import dev.katashim.metrics.container.ContainerUsage;
import dev.katashim.metrics.monitor.SandboxRoot;
import dev.katashim.metrics.monitor.SandboxWatcher;
import dev.katashim.metrics.support.ContainerdBundles;
import dev.katashim.metrics.support.StrictPrometheusText;
import dev.katashim.metrics.support.TestSandbox;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The CLI against real management sockets, under the two sandbox roots of upstream's two runtimes (temp dirs here). */
class KataShimMetricsCliTest {
    private Path root;
    private Path rustRoot;
    private TestSandbox sandbox;
    private TestSandbox rustSandbox;

    @BeforeEach
    void prepare() throws Exception {
        Path dir = Files.createTempDirectory(Path.of("/tmp"), "ksm-cli");
        root = Files.createDirectories(dir.resolve("vc-sbs"));
        rustRoot = Files.createDirectories(dir.resolve("run-kata"));
        sandbox = TestSandbox.in(root, "pod-1").start();
        Files.createDirectories(root.resolve("pod-2")); // a sandbox whose shim serves nothing
        rustSandbox = TestSandbox.in(rustRoot, "pod-rs").start();
    }

    @AfterEach
    void cleanUp() throws Exception {
        sandbox.close();
        rustSandbox.close();
        TestSandbox.deleteTree(root.getParent());
    }

    private record Run(int status, String out, String err) {
    }

    private Run run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = KataShimMetricsCli.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void listsTheSandboxesOfEveryRootWithTheirRootAndWhetherTheyServe() {
        Run r = run("--sandbox-root", root.toString(), "--sandbox-root", rustRoot.toString(), "list");
        assertThat(r.status()).isZero();
        assertThat(r.out()).isEqualTo("pod-1\t" + root + "\tserving\npod-2\t" + root + "\tno management socket\npod-rs\t"
                + rustRoot + "\tserving\n");
        Run one = run("--sandbox-root", rustRoot.toString(), "list");
        assertThat(one.out()).isEqualTo("pod-rs\t" + rustRoot + "\tserving\n");
    }

    @Test
    void byDefaultItLooksWhereTheNodeMonitorLooks() {
        assertThat(SandboxRoots.defaults().roots()).extracting(SandboxRoot::path)
                .isEqualTo(SandboxWatcher.defaultRoots()).contains(Path.of("/run/kata"));
    }

    @Test
    void findsASandboxInWhicheverRootItIs() {
        Run r = run("--sandbox-root", root.toString(), "--sandbox-root", rustRoot.toString(), "metrics", "pod-rs");
        assertThat(r.status()).as(r.err()).isZero();
        assertThat(StrictPrometheusText.parse(r.out()).get("kata_shim_threads").labelValues("sandbox_id")).containsExactly("pod-rs");
    }

    @Test
    void aCriPodsMetricsCarryItsIdentityAndItsContainersKubernetesLabelsAsTheMonitorsDo() throws Exception {
        ContainerdBundles bundles = new ContainerdBundles(root.getParent().resolve("containerd"));
        bundles.sandbox("pod-1", "uid-1", "web-0", "shop");
        bundles.container("app-1", "pod-1", "app");
        sandbox.metrics.attachContainers(() -> Map.of("app-1", new ContainerUsage(1, 1, 0, 2048, 1024, 1024, 0, 0, 1, 0, 0, List.of())),
                "app-1");
        Run r = run("--sandbox-root", root.toString(), "--containerd-state", bundles.state().toString(), "metrics", "pod-1");
        assertThat(r.status()).as(r.err()).isZero();
        Map<String, StrictPrometheusText.Family> families = StrictPrometheusText.parse(r.out());
        assertThat(families.get("kata_container_memory_working_set_bytes").sample("container_id", "app-1").labels())
                .containsEntry("container", "app").containsEntry("pod", "web-0").containsEntry("namespace", "shop")
                .containsEntry("cri_uid", "uid-1").containsEntry("sandbox_id", "pod-1");
    }

    @Test
    void aSandboxUnderTwoRootsIsAnErrorNamingBoth() throws Exception {
        Files.createDirectories(rustRoot.resolve("pod-1"));
        Run r = run("--sandbox-root", root.toString(), "--sandbox-root", rustRoot.toString(), "metrics", "pod-1");
        assertThat(r.status()).isEqualTo(1);
        assertThat(r.out()).isEmpty();
        assertThat(r.err()).contains("pod-1 is under 2 roots").contains(root.resolve("pod-1").toString())
                .contains(rustRoot.resolve("pod-1").toString());
        Run url = run("--sandbox-root", root.toString(), "--sandbox-root", rustRoot.toString(), "agent-url", "pod-1");
        assertThat(url.status()).isEqualTo(1);
        assertThat(url.err()).contains("under 2 roots");
        Run list = run("--sandbox-root", root.toString(), "--sandbox-root", rustRoot.toString(), "list");
        assertThat(list.out()).contains("pod-1\t" + root + "\tserving\npod-1\t" + rustRoot + "\tno management socket\n");
    }

    @Test
    void printsOneSandboxsMetricsWithItsIdOnEverySample() {
        Run r = run("--sandbox-root", root.toString(), "metrics", "pod-1");
        assertThat(r.status()).as(r.err()).isZero();
        Map<String, StrictPrometheusText.Family> families = StrictPrometheusText.parse(r.out());
        assertThat(families).containsKeys("kata_shim_threads", "kata_hypervisor_scrape_count");
        assertThat(families.values()).allSatisfy(f -> assertThat(f.samples())
                .allSatisfy(s -> assertThat(s.labels()).containsEntry("sandbox_id", "pod-1")));
        Run om = run("--sandbox-root", root.toString(), "--openmetrics", "metrics", "pod-1");
        assertThat(StrictPrometheusText.parseOpenMetrics(om.out())).containsKey("kata_hypervisor_scrape_count");
    }

    @Test
    void saysWhyWhenItCannot() {
        Run missing = run("--sandbox-root", root.toString(), "--sandbox-root", rustRoot.toString(), "metrics", "pod-9");
        assertThat(missing.status()).isEqualTo(1);
        assertThat(missing.err()).contains("no sandbox pod-9 under " + root + ", " + rustRoot);
        Run unknownUrl = run("--sandbox-root", root.toString(), "agent-url", "pod-9");
        assertThat(unknownUrl.status()).isEqualTo(1);
        assertThat(unknownUrl.err()).contains("no sandbox pod-9 under " + root);
        Run notAnId = run("--sandbox-root", root.toString(), "metrics", "..");
        assertThat(notAnId.status()).isEqualTo(2);
        assertThat(notAnId.err()).contains("not a sandbox id");
        Run empty = run("--sandbox-root", root.resolve("nothing-here").toString(), "list");
        assertThat(empty.status()).isZero();
        assertThat(empty.err()).contains("no sandboxes under " + root.resolve("nothing-here"));
        Run silent = run("--sandbox-root", root.toString(), "--timeout", "500ms", "metrics", "pod-2");
        assertThat(silent.status()).isEqualTo(1);
        assertThat(silent.err()).contains("pod-2").contains("shim-monitor.sock");
        Run usage = run("metrics");
        assertThat(usage.status()).isEqualTo(2);
        assertThat(usage.err()).contains("takes one SANDBOX_ID").contains("usage:");
        assertThat(run("frobnicate").status()).isEqualTo(2);
        assertThat(run("--help").status()).isZero();
        Run url = run("--sandbox-root", root.toString(), "agent-url", "pod-1");
        assertThat(url.status()).isEqualTo(1);
        assertThat(url.err()).contains("500");
    }
}
