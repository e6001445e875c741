package dev.katashim.metrics.support;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The reading of the metrics reference (docs/metrics.md) finds what it says (so a misreading cannot pass unseen). */
class SpecTableTest {
    @Test
    void readsEveryRowAndTheNotes() throws Exception {
        SpecTable spec = SpecTable.load();
        assertThat(spec.metrics).containsKeys("kata_shim_fds", "kata_shim_pod_overhead_cpu", "kata_shim_process_cpu_seconds_total",
                "kata_hypervisor_scrape_count", "kata_hypervisor_seccomp", "kata_hypervisor_signals", "kata_hypervisor_netdev");
        assertThat(spec.metrics).hasSize(17 + 4 + 6);
        assertThat(spec.metrics.get("kata_shim_rpc_durations_histogram_milliseconds").type()).isEqualTo("histogram");
        assertThat(spec.metrics.get("kata_shim_rpc_durations_histogram_milliseconds").labels().get("action")).hasSize(17).contains("resize_pty");
        assertThat(spec.metrics.get("kata_shim_agent_rpc_durations_histogram_milliseconds").labels().get("action"))
                .hasSize(28).contains("grpc.WriteStreamRequest");
        assertThat(spec.metrics.get("kata_shim_netdev").labels()).containsOnlyKeys("interface", "item", "sandbox_id");
        assertThat(spec.metrics.get("kata_shim_netdev").labels().get("item")).hasSize(16);
        assertThat(spec.metrics.get("kata_shim_proc_status").labels().get("item")).hasSize(19);
        assertThat(spec.metrics.get("kata_hypervisor_signals").labels().get("item")).containsExactlyInAnyOrder("sigbus", "sigsegv");
        assertThat(spec.metrics.get("kata_hypervisor_seccomp").labels().get("item")).containsExactly("num_faults");
        assertThat(spec.metrics.get("kata_hypervisor_vcpu").labels()).containsOnlyKeys("cpu_id", "item", "sandbox_id");
        assertThat(spec.metrics.get("kata_hypervisor_scrape_count").type()).isEqualTo("counter");
        assertThat(spec.metrics.get("kata_shim_pod_overhead_cpu").unit()).isEqualTo("percent");
        assertThat(spec.histogramBuckets).containsExactly(1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0);
        assertThat(spec.metrics.values()).allSatisfy(m -> assertThat(m.labels()).containsKey("sandbox_id"));
    }

    @Test
    void theReferenceIsFoundFromAModuleAndNeverOutsideTheRepository(@TempDir Path dir) throws Exception {
        Path repo = Files.createDirectories(dir.resolve("outer/repo"));
        Files.createDirectories(dir.resolve("outer/docs"));
        Files.writeString(dir.resolve("outer/docs/metrics.md"), "someone else's");
        Files.writeString(repo.resolve("mvnw"), "");
        Path module = Files.createDirectories(repo.resolve("shim-metrics"));
        assertThatThrownBy(() -> SpecTable.specFile(module)).isInstanceOf(AssertionError.class)
                .hasMessageContaining("docs/metrics.md not found");
        Files.createDirectories(repo.resolve("docs"));
        Files.writeString(repo.resolve("docs/metrics.md"), "ours");
        assertThat(SpecTable.specFile(module)).isEqualTo(repo.resolve("docs/metrics.md"));
        assertThat(SpecTable.specFile(repo)).isEqualTo(repo.resolve("docs/metrics.md"));
    }

    @Test
    void aRowOutOfFormatFailsTheReadingInsteadOfBeingSkipped(@TempDir Path dir) throws Exception {
        String doc = Files.readString(SpecTable.specFile());
        String row = "| `kata_shim_fds` | gauge | | | upstream | `Kata containerd shim v2 open FDs.` |";
        assertThat(doc).contains(row);
        Path broken = dir.resolve("metrics.md");
        Files.writeString(broken, doc.replace(row, "| `kata_shim_fds` | gauge | | | `Kata containerd shim v2 open FDs.` |"));
        assertThatThrownBy(() -> SpecTable.load(broken)).isInstanceOf(AssertionError.class).hasMessageContaining("6 cells");
        Files.writeString(broken, doc.replace(row, row.replace("gauge", "IntGauge")));
        assertThatThrownBy(() -> SpecTable.load(broken)).isInstanceOf(AssertionError.class).hasMessageContaining("unknown type");
        Files.writeString(broken, doc.replace("`item`: `num_faults`", "`item`: num_faults"));
        assertThatThrownBy(() -> SpecTable.load(broken)).isInstanceOf(AssertionError.class).hasMessageContaining("item of item");
        Files.writeString(broken, doc.replace("add `sandbox_id` to every sample", "add it"));
        assertThatThrownBy(() -> SpecTable.load(broken)).isInstanceOf(AssertionError.class).hasMessageContaining("sandbox_id");
    }
}
