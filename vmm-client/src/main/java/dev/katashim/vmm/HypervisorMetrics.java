package dev.katashim.vmm;

import dev.katashim.sys.ThreadSchedStat;

import java.io.IOException;
import java.util.List;
import java.util.Optional;

/**
 * The hypervisor's side of the {@code kata_hypervisor_*} metrics, read once per scrape.
 * <ul>
 *   <li>{@link #pid()}: the VMM process, whose {@code /proc/<pid>} files give the process metrics
 *       (threads, fds, proc_status, proc_stat, io_stat, netdev);</li>
 *   <li>{@link #vcpu()}: {@code kata_hypervisor_vcpu{cpu_id,item}}, only the counters the
 *       accelerator really keeps (none under TCG): an item missing here is absent from
 *       {@code /metrics}, never a made-up zero. See {@link VcpuItem} for the mapping from KVM;</li>
 *   <li>{@link #fatalSignals()}: {@code kata_hypervisor_signals{item="sigbus"|"sigsegv"}} and
 *       {@code kata_hypervisor_seccomp{item="num_faults"}} (SIGSYS), from how the VMM ended.</li>
 * </ul>
 */
public interface HypervisorMetrics {
    /** A backend that counts nothing: no process, no vCPU counters, no signals. */
    HypervisorMetrics NONE = new HypervisorMetrics() {
        @Override
        public long pid() {
            return 0;
        }

        @Override
        public List<VcpuCounter> vcpu() {
            return List.of();
        }

        @Override
        public FatalSignals fatalSignals() {
            return FatalSignals.NONE;
        }

        @Override
        public boolean seesFatalSignals() {
            return false;
        }
    };

    /** The VMM's host pid, 0 when there is none (not started, or no separate process). */
    long pid();

    /** The per-vCPU counters the accelerator keeps; empty when it keeps none (TCG) or the VMM is gone. */
    List<VcpuCounter> vcpu() throws IOException;

    /** The fatal signals the VMM died of, as seen by the shim (all zero while it runs). */
    FatalSignals fatalSignals();

    /**
     * The vCPU threads' scheduler time summed (run and run-queue wait), for the pod overhead: a
     * guest counts the time its vCPU waited for a host CPU as its own. Empty without vCPU threads
     * of a VMM (the no-VM sandbox) or once the VMM is gone.
     */
    default Optional<ThreadSchedStat> vcpuThreads() throws IOException {
        return Optional.empty();
    }

    /**
     * Whether {@link #fatalSignals()} are really watched: without a VMM process of its own (the
     * no-VM sandbox) nothing is, and those series are then absent rather than zero.
     */
    default boolean seesFatalSignals() {
        return true;
    }
}
