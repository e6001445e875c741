package dev.katashim.vmm;

/**
 * How many times the VMM died of SIGBUS, SIGSEGV or SIGSYS, as the shim saw it end. A VMM process
 * dies at most once, so each count is 0 or 1 per sandbox. SIGSYS is what a seccomp violation
 * under QEMU's {@code -sandbox on} kills it with ({@code SECCOMP_RET_KILL_PROCESS}), so it is
 * {@code kata_hypervisor_seccomp{item="num_faults"}}; SIGBUS and SIGSEGV are
 * {@code kata_hypervisor_signals{item="sigbus"|"sigsegv"}}. Other deaths (SIGKILL, SIGABRT, a
 * plain exit) are not counted: the metrics reference (docs/metrics.md) has no item for them.
 */
public record FatalSignals(long sigbus, long sigsegv, long sigsys) {
    public static final FatalSignals NONE = new FatalSignals(0, 0, 0);

    /** The counts for a VMM that ended with {@code exit}. */
    public static FatalSignals of(VmmExit exit) {
        return switch (exit) {
            case VmmExit.Killed(Signal s) when s.equals(Signal.SIGBUS) -> new FatalSignals(1, 0, 0);
            case VmmExit.Killed(Signal s) when s.equals(Signal.SIGSEGV) -> new FatalSignals(0, 1, 0);
            case VmmExit.Killed(Signal s) when s.equals(Signal.SIGSYS) -> new FatalSignals(0, 0, 1);
            default -> NONE;
        };
    }

    /** {@code kata_hypervisor_seccomp{item="num_faults"}}. */
    public long seccompFaults() {
        return sigsys;
    }
}
