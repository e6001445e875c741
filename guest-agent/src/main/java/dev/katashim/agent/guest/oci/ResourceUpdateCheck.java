package dev.katashim.agent.guest.oci;

import dev.katashim.agent.guest.AgentStatus;
import dev.katashim.protocols.kata.agent.LinuxCPU;
import dev.katashim.protocols.kata.agent.LinuxMemory;
import dev.katashim.protocols.kata.agent.LinuxResources;

/**
 * What UpdateContainer may ask of a container's cgroup: values the kernel would refuse, or that
 * make no sense, are INVALID_ARGUMENT naming the field before runc is asked, so the container goes
 * on as it was. proto3 sends an absent number as 0: 0 means "leave it" (an OCI field left out), and
 * -1 means "no limit" where OCI allows it. A cpu section that sets nothing at all (shares, quota
 * and period 0, no cpus, no mems) is refused as it can only be a shares or a period of 0.
 */
public final class ResourceUpdateCheck {
    /** The kernel's CFS limits, in µs. */
    static final long MIN_CPU_PERIOD = 1_000;
    static final long MAX_CPU_PERIOD = 1_000_000;
    static final long MIN_CPU_QUOTA = 1_000;
    /** cgroup v1's cpu.shares range (v2's weight is derived from it). */
    static final long MIN_CPU_SHARES = 2;
    static final long MAX_CPU_SHARES = 262_144;
    /** Below one page a memory limit can hold nothing. */
    static final long MIN_MEMORY = 4_096;

    private ResourceUpdateCheck() {
    }

    public static void check(LinuxResources resources, String containerId) {
        String who = "UpdateContainer: container " + AgentStatus.quote(containerId) + ": ";
        if (resources.hasMemory()) {
            memory(resources.getMemory(), who);
        }
        if (resources.hasCPU()) {
            cpu(resources.getCPU(), who);
        }
        if (resources.hasPids() && resources.getPids().getLimit() < -1) {
            throw AgentStatus.invalid(who + "pids.limit " + resources.getPids().getLimit() + " is not a limit (a count, or -1 for none)");
        }
        if (resources.hasBlockIO()) {
            int weight = resources.getBlockIO().getWeight();
            if (weight != 0 && (weight < 10 || weight > 1000)) {
                throw AgentStatus.invalid(who + "blockIO.weight " + weight + " is outside 10-1000");
            }
        }
    }

    private static void memory(LinuxMemory m, String who) {
        bytes("memory.limit", m.getLimit(), who);
        bytes("memory.reservation", m.getReservation(), who);
        bytes("memory.swap", m.getSwap(), who);
        bytes("memory.kernel", m.getKernel(), who);
        bytes("memory.kernelTCP", m.getKernelTCP(), who);
        if (m.getLimit() > 0 && m.getSwap() > 0 && m.getSwap() < m.getLimit()) {
            throw AgentStatus.invalid(who + "memory.swap " + m.getSwap() + " is below memory.limit " + m.getLimit()
                    + " (OCI's swap is memory plus swap)");
        }
        if (Long.compareUnsigned(m.getSwappiness(), 100) > 0) {
            throw AgentStatus.invalid(who + "memory.swappiness " + Long.toUnsignedString(m.getSwappiness()) + " is outside 0-100");
        }
    }

    private static void bytes(String field, long value, String who) {
        if (value < -1) {
            throw AgentStatus.invalid(who + field + " " + value + " is not a size (bytes, or -1 for no limit)");
        }
        if (value > 0 && value < MIN_MEMORY) {
            throw AgentStatus.invalid(who + field + " " + value + " is below one page (" + MIN_MEMORY + " bytes)");
        }
    }

    private static void cpu(LinuxCPU c, String who) {
        long shares = c.getShares();
        long period = c.getPeriod();
        long quota = c.getQuota();
        if (shares == 0 && period == 0 && quota == 0 && c.getCpus().isEmpty() && c.getMems().isEmpty()
                && c.getRealtimePeriod() == 0 && c.getRealtimeRuntime() == 0) {
            throw AgentStatus.invalid(who + "cpu sets nothing: cpu.shares 0 and cpu.period 0 are not values (shares "
                    + MIN_CPU_SHARES + "-" + MAX_CPU_SHARES + ", a period of " + MIN_CPU_PERIOD + "-" + MAX_CPU_PERIOD + " µs)");
        }
        if (shares != 0 && (Long.compareUnsigned(shares, MIN_CPU_SHARES) < 0 || Long.compareUnsigned(shares, MAX_CPU_SHARES) > 0)) {
            throw AgentStatus.invalid(who + "cpu.shares " + Long.toUnsignedString(shares) + " is outside " + MIN_CPU_SHARES + "-" + MAX_CPU_SHARES);
        }
        if (period != 0 && (Long.compareUnsigned(period, MIN_CPU_PERIOD) < 0 || Long.compareUnsigned(period, MAX_CPU_PERIOD) > 0)) {
            throw AgentStatus.invalid(who + "cpu.period " + Long.toUnsignedString(period) + " µs is outside "
                    + MIN_CPU_PERIOD + "-" + MAX_CPU_PERIOD);
        }
        if (quota < -1 || (quota > 0 && quota < MIN_CPU_QUOTA)) {
            throw AgentStatus.invalid(who + "cpu.quota " + quota + " µs is not a quota (at least " + MIN_CPU_QUOTA + ", or -1 for none)");
        }
    }
}
