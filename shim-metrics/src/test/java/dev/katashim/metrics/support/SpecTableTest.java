package dev.katashim.metrics.support;

import dev.katashim.metrics.SpecActions;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The reading of the specification finds what the spec says (so a misreading cannot pass unseen). */
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
    void theActionsTheHistogramsStartWithAreTheSpecs() throws Exception {
        SpecTable spec = SpecTable.load();
        assertThat(SpecActions.SHIM).containsExactlyInAnyOrderElementsOf(
                spec.metrics.get("kata_shim_rpc_durations_histogram_milliseconds").labels().get("action"));
        assertThat(SpecActions.AGENT).containsExactlyInAnyOrderElementsOf(
                spec.metrics.get("kata_shim_agent_rpc_durations_histogram_milliseconds").labels().get("action"));
    }
}
