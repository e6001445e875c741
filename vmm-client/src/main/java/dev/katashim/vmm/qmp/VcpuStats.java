package dev.katashim.vmm.qmp;

import java.util.Map;

/**
 * One vCPU's statistics from {@code query-stats} (target {@code vcpu}): the provider
 * ({@code kvm}; TCG provides none) and its scalar counters by name ({@code io_exits},
 * {@code mmio_exits}, {@code exits}, ...). Histograms and booleans are left out.
 */
public record VcpuStats(String qomPath, String provider, Map<String, Long> counters) {
    public VcpuStats {
        counters = Map.copyOf(counters);
    }
}
