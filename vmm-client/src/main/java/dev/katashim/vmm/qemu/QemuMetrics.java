package dev.katashim.vmm.qemu;

import dev.katashim.sys.ProcFs;
import dev.katashim.sys.ThreadSchedStat;
import dev.katashim.vmm.FatalSignals;
import dev.katashim.vmm.HypervisorMetrics;
import dev.katashim.vmm.VcpuCounter;
import dev.katashim.vmm.VcpuItem;
import dev.katashim.vmm.VmmExit;
import dev.katashim.vmm.qmp.CpuInfo;
import dev.katashim.vmm.qmp.QmpClient;
import dev.katashim.vmm.qmp.VcpuStats;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * {@link HypervisorMetrics} of one QEMU: its pid while it runs, the KVM vCPU counters mapped to
 * the metrics reference's items (see {@link VcpuItem}), and the fatal signals it died of.
 */
final class QemuMetrics implements HypervisorMetrics {
    private final Supplier<Optional<RunningQemu>> qemu;
    private final Supplier<Optional<VmmExit>> exit;

    QemuMetrics(Supplier<Optional<RunningQemu>> qemu, Supplier<Optional<VmmExit>> exit) {
        this.qemu = qemu;
        this.exit = exit;
    }

    /** 0 once QEMU has exited, so that nobody reads a recycled pid's {@code /proc} files. */
    @Override
    public long pid() {
        return qemu.get().filter(q -> q.process().isAlive()).map(q -> q.process().pid()).orElse(0L);
    }

    @Override
    public List<VcpuCounter> vcpu() throws IOException {
        Optional<RunningQemu> running = qemu.get().filter(q -> q.process().isAlive());
        if (running.isEmpty()) {
            return List.of();
        }
        QmpClient qmp = running.get().qmp();
        List<VcpuStats> stats = qmp.queryVcpuStats();
        if (stats.isEmpty()) {
            return List.of(); // TCG: no provider, every item absent
        }
        Map<String, Integer> cpuIndex = new HashMap<>();
        for (CpuInfo cpu : qmp.queryCpusFast()) {
            cpuIndex.put(cpu.qomPath(), cpu.cpuIndex());
        }
        return map(stats, cpuIndex);
    }

    @Override
    public Optional<ThreadSchedStat> vcpuThreads() throws IOException {
        Optional<RunningQemu> running = qemu.get().filter(q -> q.process().isAlive());
        if (running.isEmpty()) {
            return Optional.empty();
        }
        String pid = Long.toString(running.get().process().pid());
        ThreadSchedStat sum = ThreadSchedStat.ZERO;
        for (CpuInfo cpu : running.get().qmp().queryCpusFast()) {
            Optional<ThreadSchedStat> thread = ProcFs.HOST.schedStat(pid, Long.toString(cpu.threadId()));
            if (thread.isEmpty()) {
                return Optional.empty(); // QEMU is going: no partial sum
            }
            sum = sum.plus(thread.get());
        }
        return Optional.of(sum);
    }

    static List<VcpuCounter> map(List<VcpuStats> stats, Map<String, Integer> cpuIndex) {
        List<VcpuCounter> counters = new ArrayList<>();
        for (VcpuStats s : stats) {
            Integer cpu = cpuIndex.get(s.qomPath());
            if (cpu == null || !s.provider().equals("kvm")) {
                continue;
            }
            for (VcpuItem item : VcpuItem.values()) {
                item.kvmStat().map(s.counters()::get).ifPresent(v -> counters.add(new VcpuCounter(cpu, item, v)));
            }
        }
        return counters;
    }

    @Override
    public FatalSignals fatalSignals() {
        return exit.get().map(FatalSignals::of).orElse(FatalSignals.NONE);
    }
}
