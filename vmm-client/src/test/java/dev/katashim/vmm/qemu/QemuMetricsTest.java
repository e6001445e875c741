package dev.katashim.vmm.qemu;

import dev.katashim.vmm.VcpuCounter;
import dev.katashim.vmm.VcpuItem;
import dev.katashim.vmm.qmp.VcpuStats;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The KVM-to-item mapping (docs/metrics.md), on statistics as QEMU 7.2 returned them here for a KVM vCPU
 * (a guest that did run under KVM with {@code -cpu qemu64} until it hung in the BIOS).
 */
class QemuMetricsTest {
    private static final Map<String, Long> KVM_VCPU0 = Map.of(
            "exits", 6634L, "io_exits", 0L, "mmio_exits", 300L, "halt_exits", 0L, "signal_exits", 2L,
            "insn_emulation", 5158733L, "insn_emulation_fail", 0L, "irq_injections", 1L, "hypercalls", 0L);

    @Test
    void onlyItemsWithAKvmCounterAreReported() {
        List<VcpuCounter> counters = QemuMetrics.map(
                List.of(new VcpuStats("/machine/unattached/device[0]", "kvm", KVM_VCPU0)),
                Map.of("/machine/unattached/device[0]", 0));
        assertThat(counters).containsExactly(new VcpuCounter(0, VcpuItem.FAILURES, 0));
    }

    @Test
    void theVcpuIdComesFromQueryCpusFast() {
        List<VcpuCounter> counters = QemuMetrics.map(
                List.of(new VcpuStats("/machine/unattached/device[1]", "kvm", Map.of("insn_emulation_fail", 3L))),
                Map.of("/machine/unattached/device[0]", 0, "/machine/unattached/device[1]", 1));
        assertThat(counters).containsExactly(new VcpuCounter(1, VcpuItem.FAILURES, 3));
    }

    @Test
    void kvmHasNoCounterForDirectionsOrCpuid() {
        assertThat(List.of(VcpuItem.values())).filteredOn(i -> i.kvmStat().isEmpty())
                .containsExactly(VcpuItem.EXIT_IO_IN, VcpuItem.EXIT_IO_OUT, VcpuItem.EXIT_MMIO_READ, VcpuItem.EXIT_MMIO_WRITE,
                        VcpuItem.FILTER_CPUID);
    }
}
