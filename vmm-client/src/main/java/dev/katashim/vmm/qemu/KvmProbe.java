package dev.katashim.vmm.qemu;

import dev.katashim.vmm.qmp.QmpException;
import dev.katashim.vmm.qmp.VcpuStats;
import dev.katashim.vmm.qmp.VmStatus;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Tells whether a QEMU launched with KVM really runs its guest. QEMU can accept {@code -accel kvm},
 * answer on QMP, and only then fail. Two ways were seen on nested, paravirtual KVM hosts: QEMU
 * aborts when it loads the vCPU's MSRs ("failed to set MSR 0x10a", SIGABRT) before the first
 * guest instruction; or the firmware and the kernel's real-mode setup run (so KVM counts exits),
 * then KVM fails to emulate an instruction at the switch to protected mode and the guest spins
 * there for ever, QEMU running, the console silent. So the probe asks KVM's own vCPU statistics
 * ({@code query-stats}) for proof that the guest got somewhere: every vCPU has exited
 * ({@code exits}) and halted ({@code halt_exits}: a kernel's idle loop, or firmware waiting), and
 * none has failed an emulation ({@code insn_emulation_fail}). Where {@code query-stats} is missing
 * (QEMU before 7.1), QEMU still alive and running after the whole window counts as success.
 */
final class KvmProbe {
    /**
     * How long a guest has to show it runs: a kernel idles within a second of its start under KVM;
     * generous for a loaded host, where a wrong "no" would send every sandbox of this host to TCG.
     */
    static final Duration DEFAULT_WINDOW = Duration.ofSeconds(10);

    private KvmProbe() {
    }

    /** Empty when the guest runs under KVM; otherwise why not. */
    static Optional<String> failure(RunningQemu qemu, Duration window) throws InterruptedException {
        long deadline = System.nanoTime() + window.toNanos();
        boolean statsAvailable = true;
        Verdict last = new Verdict.Undecided("the VM never ran");
        while (true) {
            if (!qemu.process().isAlive()) {
                return Optional.of(exitedReason(qemu));
            }
            try {
                VmStatus status = qemu.qmp().queryStatus();
                if (!status.running() && !status.status().equals("prelaunch")) {
                    return Optional.of("the VM went to state '" + status.status() + "' under KVM");
                }
                if (statsAvailable && status.running()) {
                    last = verdict(qemu.qmp().queryVcpuStats());
                    if (last instanceof Verdict.Fails fails) {
                        return Optional.of(fails.reason());
                    }
                    if (last instanceof Verdict.Runs && qemu.process().isAlive()) {
                        return Optional.empty();
                    }
                }
            } catch (QmpException.ErrorResponse e) {
                statsAvailable = false;
            } catch (IOException e) {
                // QMP gone: QEMU is exiting; say how it ended
                qemu.process().waitFor(2, TimeUnit.SECONDS);
                if (!qemu.process().isAlive()) {
                    return Optional.of(exitedReason(qemu));
                }
                return Optional.of("QMP failed while probing KVM: " + e.getMessage());
            }
            if (System.nanoTime() >= deadline) {
                return statsAvailable
                        ? Optional.of("the guest did not get going within " + window.toMillis() + " ms: "
                                + last.reason())
                        : Optional.empty();
            }
            qemu.process().waitFor(20, TimeUnit.MILLISECONDS);
        }
    }

    /** What KVM's vCPU counters say of the guest so far. */
    sealed interface Verdict {
        String reason();

        /** Every vCPU entered the guest and halted, none failed an emulation. */
        record Runs(String reason) implements Verdict {
        }

        /** A vCPU failed an emulation: the guest is stuck and will stay so. */
        record Fails(String reason) implements Verdict {
        }

        /** No proof either way yet. */
        record Undecided(String reason) implements Verdict {
        }
    }

    static Verdict verdict(List<VcpuStats> vcpus) {
        if (vcpus.isEmpty()) {
            return new Verdict.Undecided("QEMU reports no vCPU statistics");
        }
        for (VcpuStats vcpu : vcpus) {
            long failed = vcpu.counters().getOrDefault("insn_emulation_fail", 0L);
            if (failed > 0) {
                return new Verdict.Fails("KVM failed to emulate the guest's instructions (insn_emulation_fail " + failed
                        + " on " + vcpu.qomPath() + "): the guest is stuck");
            }
        }
        for (VcpuStats vcpu : vcpus) {
            if (vcpu.counters().getOrDefault("exits", 0L) == 0) {
                return new Verdict.Undecided("the vCPUs have not entered the guest (KVM exits 0 on " + vcpu.qomPath() + ")");
            }
            if (vcpu.counters().getOrDefault("halt_exits", 0L) == 0) {
                return new Verdict.Undecided("the vCPUs run but have never halted (KVM halt_exits 0 on " + vcpu.qomPath() + ")");
            }
        }
        return new Verdict.Runs("every vCPU entered the guest and halted");
    }

    private static String exitedReason(RunningQemu qemu) {
        String output = ProcessOutput.tail(qemu.files().qemuLog()).strip();
        return "QEMU " + qemu.exit().map(Object::toString).orElse("exited") + " with -accel kvm"
                + (output.isEmpty() ? "" : ": " + output.replace('\n', ' '));
    }
}
