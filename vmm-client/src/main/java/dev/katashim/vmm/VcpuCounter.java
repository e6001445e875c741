package dev.katashim.vmm;

/** One counter of one vCPU: a sample of {@code kata_hypervisor_vcpu{cpu_id,item}}. */
public record VcpuCounter(int cpuId, VcpuItem item, long value) {
}
