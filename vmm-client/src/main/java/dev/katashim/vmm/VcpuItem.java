package dev.katashim.vmm;

import java.util.Locale;
import java.util.Optional;

/**
 * The items docs/metrics.md lists for {@code kata_hypervisor_vcpu} (upstream dragonball's
 * per-vCPU counters), and which KVM statistic, as QEMU's {@code query-stats} (target
 * {@code vcpu}, provider {@code kvm}) returns it, supplies each.
 *
 * <p>QEMU 7.2 on Linux 6.x returns these KVM vCPU statistics (among others): {@code exits},
 * {@code io_exits}, {@code mmio_exits}, {@code halt_exits}, {@code irq_exits},
 * {@code signal_exits}, {@code insn_emulation}, {@code insn_emulation_fail}, {@code hypercalls},
 * {@code irq_injections}, {@code pf_*}. KVM counts port-I/O and MMIO exits in both directions
 * together, and has no counter for CPUID filtering, so:
 * <table>
 *   <tr><th>item</th><th>KVM statistic</th></tr>
 *   <tr><td>exit_io_in</td><td>none: {@code io_exits} counts IN and OUT together</td></tr>
 *   <tr><td>exit_io_out</td><td>none: {@code io_exits} counts IN and OUT together</td></tr>
 *   <tr><td>exit_mmio_read</td><td>none: {@code mmio_exits} counts reads and writes together</td></tr>
 *   <tr><td>exit_mmio_write</td><td>none: {@code mmio_exits} counts reads and writes together</td></tr>
 *   <tr><td>failures</td><td>{@code insn_emulation_fail}: instructions KVM could not emulate,
 *       each one a failed vCPU run (QEMU then stops the VM with {@code internal-error})</td></tr>
 *   <tr><td>filter_cpuid</td><td>none: dragonball counts its own CPUID-table errors; KVM has no such counter</td></tr>
 * </table>
 * Items without a KVM statistic are absent from {@code /metrics}; splitting a combined counter or
 * reporting it under a one-direction name would be a made-up number. The combined totals stay
 * available, unmapped, in {@link dev.katashim.vmm.qmp.VcpuStats}. Under TCG there is no
 * provider at all and every item is absent.
 */
public enum VcpuItem {
    EXIT_IO_IN(null),
    EXIT_IO_OUT(null),
    EXIT_MMIO_READ(null),
    EXIT_MMIO_WRITE(null),
    FAILURES("insn_emulation_fail"),
    FILTER_CPUID(null);

    private final String kvmStat;

    VcpuItem(String kvmStat) {
        this.kvmStat = kvmStat;
    }

    /** The label value: {@code exit_io_in}, ... */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The KVM statistic that supplies this item, if KVM has one. */
    public Optional<String> kvmStat() {
        return Optional.ofNullable(kvmStat);
    }
}
