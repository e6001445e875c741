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
 * answer on QMP, and only then fail: on a nested, paravirtual KVM it aborts when it loads the
 * vCPU's MSRs ("failed to set MSR 0x10a", an assertion, SIGABRT) just before the first guest
 * instruction. So the probe waits for proof the vCPUs entered the guest: KVM's own vCPU
 * statistic {@code exits} ({@code query-stats}) above zero, with QEMU still alive and running.
 * Where {@code query-stats} is missing (QEMU before 7.1), QEMU still alive and running after the
 * whole window counts as success.
 */
final class KvmProbe {
    static final Duration DEFAULT_WINDOW = Duration.ofSeconds(3);

    private KvmProbe() {
    }

    /** Empty when the guest runs under KVM; otherwise why not. */
    static Optional<String> failure(RunningQemu qemu, Duration window) throws InterruptedException {
        long deadline = System.nanoTime() + window.toNanos();
        boolean statsAvailable = true;
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
                    List<VcpuStats> stats = qemu.qmp().queryVcpuStats();
                    boolean entered = !stats.isEmpty() && stats.stream()
                            .allMatch(s -> s.counters().getOrDefault("exits", 0L) > 0);
                    if (entered && qemu.process().isAlive()) {
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
                        ? Optional.of("the vCPUs did not enter the guest within " + window.toMillis() + " ms (KVM exits stayed 0)")
                        : Optional.empty();
            }
            qemu.process().waitFor(20, TimeUnit.MILLISECONDS);
        }
    }

    private static String exitedReason(RunningQemu qemu) {
        String output = ProcessOutput.tail(qemu.files().qemuLog()).strip();
        return "QEMU " + qemu.exit().map(Object::toString).orElse("exited") + " with -accel kvm"
                + (output.isEmpty() ? "" : ": " + output.replace('\n', ' '));
    }
}
