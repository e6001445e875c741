package dev.katashim.vmm.qemu;

import dev.katashim.vmm.qemu.KvmProbe.Verdict;
import dev.katashim.vmm.qmp.VcpuStats;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** What the KVM probe concludes from vCPU counters, among them those of a guest seen stuck on a build machine. */
class KvmProbeVerdictTest {
    private static VcpuStats vcpu(int index, Map<String, Long> counters) {
        return new VcpuStats("/machine/unattached/device[" + index + "]", "kvm", counters);
    }

    @Test
    void aGuestStuckOnAnInstructionKvmCannotEmulateFailsThoughItsVcpuExits() {
        // query-stats 1.5 s into a boot on a nested, paravirtual KVM host: SeaBIOS and the kernel's
        // real-mode setup had run, then the guest spun on a failed emulation with a silent console
        Verdict verdict = KvmProbe.verdict(List.of(vcpu(0, Map.of("exits", 19_164L, "insn_emulation", 10_509_374L,
                "insn_emulation_fail", 2L, "mmio_exits", 1_501L, "irq_injections", 41L))));
        assertThat(verdict).isInstanceOf(Verdict.Fails.class);
        assertThat(verdict.reason()).contains("insn_emulation_fail 2").contains("device[0]").contains("stuck");
    }

    @Test
    void vcpusThatExitedAndHaltedRun() {
        Verdict verdict = KvmProbe.verdict(List.of(
                vcpu(0, Map.of("exits", 5_000L, "halt_exits", 12L)),
                vcpu(1, Map.of("exits", 800L, "halt_exits", 3L, "insn_emulation_fail", 0L))));
        assertThat(verdict).isInstanceOf(Verdict.Runs.class);
    }

    @Test
    void aVcpuThatNeverHaltedOrNeverExitedLeavesItUndecided() {
        assertThat(KvmProbe.verdict(List.of(vcpu(0, Map.of("exits", 5_000L, "halt_exits", 2L)), vcpu(1, Map.of("exits", 900L)))))
                .isInstanceOf(Verdict.Undecided.class)
                .extracting(Verdict::reason).asString().contains("never halted").contains("device[1]");
        assertThat(KvmProbe.verdict(List.of(vcpu(0, Map.of()))))
                .isInstanceOf(Verdict.Undecided.class)
                .extracting(Verdict::reason).asString().contains("not entered the guest");
        assertThat(KvmProbe.verdict(List.of())).isInstanceOf(Verdict.Undecided.class);
    }
}
