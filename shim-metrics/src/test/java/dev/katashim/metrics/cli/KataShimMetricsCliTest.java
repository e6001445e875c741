package dev.katashim.metrics.cli;

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
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The CLI against a real management socket. */
class KataShimMetricsCliTest {
    private Path root;
    private TestSandbox sandbox;

    @BeforeEach
    void prepare() throws Exception {
        root = Files.createTempDirectory(Path.of("/tmp"), "ksm-cli");
        sandbox = TestSandbox.in(root, "pod-1").start();
        Files.createDirectories(root.resolve("pod-2")); // a sandbox whose shim serves nothing
    }

    @AfterEach
    void cleanUp() throws Exception {
        sandbox.close();
        TestSandbox.deleteTree(root);
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
    void listsTheSandboxesAndWhetherTheyServe() {
        Run r = run("--sandbox-root", root.toString(), "list");
        assertThat(r.status()).isZero();
        assertThat(r.out()).isEqualTo("pod-1\tserving\npod-2\tno management socket\n");
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
        Run missing = run("--sandbox-root", root.toString(), "metrics", "pod-9");
        assertThat(missing.status()).isEqualTo(1);
        assertThat(missing.err()).contains("no sandbox pod-9");
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
