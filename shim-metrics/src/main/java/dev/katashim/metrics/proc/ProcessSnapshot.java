package dev.katashim.metrics.proc;

import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

/**
 * What /proc says about one process at one moment. Each part is null (or empty) when its file
 * could not be read: the metrics built from it are then left out, never reported as zero.
 *
 * @param stat         {@code /proc/<pid>/stat}
 * @param status       {@code /proc/<pid>/status} numeric keys; {@code kB} values in bytes
 * @param io           {@code /proc/<pid>/io} keys (empty when not permitted)
 * @param openFds      entries of {@code /proc/<pid>/fd}, or -1
 * @param maxFds       soft "Max open files" of {@code /proc/<pid>/limits}; empty when unreadable
 * @param maxAddressSpace soft "Max address space" in bytes; {@link #UNLIMITED} when unlimited
 * @param netdev       the interfaces of the process's network namespace
 */
public record ProcessSnapshot(ProcessStat stat, Map<String, Long> status, Map<String, Long> io, int openFds,
                              OptionalLong maxFds, OptionalLong maxAddressSpace, List<NetDevLine> netdev) {
    /** "unlimited" in /proc/<pid>/limits: the kernel's RLIM_INFINITY, 2^64-1 (as an unsigned value). */
    public static final long UNLIMITED = -1L;

    /** An unsigned 64-bit value as a double (RLIM_INFINITY is 1.8446744073709552E19, as Go's client reports it). */
    public static double unsigned(long value) {
        return value >= 0 ? value : (value >>> 1) * 2.0 + (value & 1);
    }
}
