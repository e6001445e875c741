package dev.katashim.vmm.qmp;

/** One vCPU from {@code query-cpus-fast}: its index, its QOM path (as {@code query-stats} names it) and its host thread. */
public record CpuInfo(int cpuIndex, String qomPath, long threadId) {
}
