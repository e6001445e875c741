package dev.katashim.metrics;

import java.util.List;
import java.util.OptionalLong;

/**
 * The hypervisor's own counters, as upstream's dragonball exposes them: per-vCPU exit counters
 * ({@code kata_hypervisor_vcpu{cpu_id,item}}), seccomp faults ({@code kata_hypervisor_seccomp
 * {item="num_faults"}}) and fatal signals ({@code kata_hypervisor_signals{item="sigbus"|"sigsegv"}}).
 * Whatever a backend does not know is simply not given.
 */
public record HypervisorCounters(List<Vcpu> vcpu, OptionalLong seccompFaults, OptionalLong sigbus, OptionalLong sigsegv) {
    public static final HypervisorCounters NONE =
            new HypervisorCounters(List.of(), OptionalLong.empty(), OptionalLong.empty(), OptionalLong.empty());

    public HypervisorCounters {
        vcpu = List.copyOf(vcpu);
    }

    /** One counter of one vCPU. */
    public record Vcpu(int cpuId, VcpuItem item, long value) {
    }

    /** The items the metrics reference (docs/metrics.md) lists for {@code kata_hypervisor_vcpu}. */
    public enum VcpuItem {
        EXIT_IO_IN, EXIT_IO_OUT, EXIT_MMIO_READ, EXIT_MMIO_WRITE, FAILURES, FILTER_CPUID;

        /** The label value: {@code exit_io_in}, ... */
        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }
}
