package dev.katashim.sys;

import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

/**
 * What /proc says about one process at one moment. Each part is null (or empty) when its file
 * could not be read: what is built from it is then left out, never reported as zero.
 *
 * @param stat            {@code /proc/<pid>/stat}
 * @param status          {@code /proc/<pid>/status} numeric keys; {@code kB} values in bytes
 * @param io              {@code /proc/<pid>/io} keys (empty when not permitted)
 * @param openFds         entries of {@code /proc/<pid>/fd}, or -1
 * @param maxFds          soft "Max open files" of {@code /proc/<pid>/limits}; empty when unreadable
 * @param maxAddressSpace soft "Max address space" in bytes; {@link SoftLimits#UNLIMITED} when unlimited
 * @param netdev          the interfaces of the process's network namespace
 */
public record ProcessSnapshot(ProcessStat stat, Map<String, Long> status, Map<String, Long> io, int openFds,
                              OptionalLong maxFds, OptionalLong maxAddressSpace, List<NetDevLine> netdev) {
}
