package dev.katashim.agent.guest.stats;

import dev.katashim.protocols.kata.agent.BlkioStats;
import dev.katashim.protocols.kata.agent.BlkioStatsEntry;
import dev.katashim.protocols.kata.agent.CpuStats;
import dev.katashim.protocols.kata.agent.CpuUsage;
import dev.katashim.protocols.kata.agent.HugetlbStats;
import dev.katashim.protocols.kata.agent.MemoryData;
import dev.katashim.protocols.kata.agent.MemoryStats;
import dev.katashim.protocols.kata.agent.PidsStats;
import dev.katashim.protocols.kata.agent.ThrottlingData;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * A cgroup v2 (unified) directory's statistics, in the v1-shaped fields runc reports for v2:
 * microseconds become nanoseconds, swap is memory + swap (v1's memsw), {@code io.stat}'s bytes and
 * operations are the Read/Write rows of the two recursive tables, a missing {@code pids.max} or
 * {@code max} is no limit (0). Two more than runc 1.1: {@code memory.peak} (Linux 5.19) is the
 * maximum usage, and the {@code max} count of {@code memory.events} (usage hit the limit) is the
 * fail count, as v1's {@code memory.failcnt}.
 */
final class CgroupV2Sampler extends CgroupSampler {
    private final Path dir;

    CgroupV2Sampler(Path dir) {
        this.dir = dir;
    }

    @Override
    Path dir() {
        return dir;
    }

    @Override
    CpuStats cpu() throws IOException {
        // cpu.stat is there also when the cpu controller is not enabled (usage only)
        Map<String, Long> stat = CgroupFiles.flatKeyedIfPresent(dir.resolve("cpu.stat"));
        return CpuStats.newBuilder()
                .setCpuUsage(CpuUsage.newBuilder()
                        .setTotalUsage(stat.getOrDefault("usage_usec", 0L) * 1000)
                        .setUsageInUsermode(stat.getOrDefault("user_usec", 0L) * 1000)
                        .setUsageInKernelmode(stat.getOrDefault("system_usec", 0L) * 1000))
                .setThrottlingData(ThrottlingData.newBuilder()
                        .setPeriods(stat.getOrDefault("nr_periods", 0L))
                        .setThrottledPeriods(stat.getOrDefault("nr_throttled", 0L))
                        .setThrottledTime(stat.getOrDefault("throttled_usec", 0L) * 1000))
                .build();
    }

    @Override
    MemoryStats memory() throws IOException {
        Map<String, Long> stat = CgroupFiles.flatKeyedIfPresent(dir.resolve("memory.stat"));
        MemoryStats.Builder memory = MemoryStats.newBuilder().putAllStats(stat).setCache(stat.getOrDefault("file", 0L))
                .setUseHierarchy(true); // v2 is always hierarchical
        var current = CgroupFiles.numberIfPresent(dir.resolve("memory.current"));
        if (current.isEmpty()) {
            return memory.build(); // no memory controller for this cgroup
        }
        long usage = current.get();
        long limit = CgroupFiles.number(dir.resolve("memory.max"));
        memory.setUsage(MemoryData.newBuilder().setUsage(usage).setLimit(limit)
                .setMaxUsage(CgroupFiles.numberIfPresent(dir.resolve("memory.peak")).orElse(0L))
                .setFailcnt(CgroupFiles.flatKeyedIfPresent(dir.resolve("memory.events")).getOrDefault("max", 0L)));
        var swap = CgroupFiles.numberIfPresent(dir.resolve("memory.swap.current"));
        if (swap.isPresent()) { // absent without swap accounting
            long swapLimit = CgroupFiles.number(dir.resolve("memory.swap.max"));
            memory.setSwapUsage(MemoryData.newBuilder().setUsage(swap.get() + usage)
                    .setLimit(swapLimit == CgroupFiles.UNLIMITED || limit == CgroupFiles.UNLIMITED ? CgroupFiles.UNLIMITED : swapLimit + limit));
        }
        return memory.build();
    }

    @Override
    PidsStats pids() throws IOException {
        var current = CgroupFiles.numberIfPresent(dir.resolve("pids.current"));
        if (current.isEmpty()) { // no pids controller: count the processes
            return PidsStats.newBuilder().setCurrent(CgroupFiles.fieldsIfPresent(dir.resolve("cgroup.procs")).size()).build();
        }
        long max = CgroupFiles.number(dir.resolve("pids.max"));
        return PidsStats.newBuilder().setCurrent(current.get()).setLimit(max == CgroupFiles.UNLIMITED ? 0 : max).build();
    }

    /** {@code io.stat}: {@code MAJ:MIN rbytes=… wbytes=… rios=… wios=… dbytes=… dios=…} per device. */
    @Override
    BlkioStats blkio() throws IOException {
        BlkioStats.Builder io = BlkioStats.newBuilder();
        Path file = dir.resolve("io.stat");
        for (String[] fields : CgroupFiles.fieldsIfPresent(file)) {
            String[] device = fields[0].split(":");
            if (device.length != 2) {
                continue;
            }
            long major = CgroupFiles.parse(file, device[0]);
            long minor = CgroupFiles.parse(file, device[1]);
            for (int i = 1; i < fields.length; i++) {
                String[] kv = fields[i].split("=", 2);
                if (kv.length != 2) {
                    continue;
                }
                long value = CgroupFiles.parse(file, kv[1]);
                BlkioStatsEntry.Builder entry = BlkioStatsEntry.newBuilder().setMajor(major).setMinor(minor).setValue(value);
                switch (kv[0]) {
                    case "rbytes" -> io.addIoServiceBytesRecursive(entry.setOp("Read"));
                    case "wbytes" -> io.addIoServiceBytesRecursive(entry.setOp("Write"));
                    case "rios" -> io.addIoServicedRecursive(entry.setOp("Read"));
                    case "wios" -> io.addIoServicedRecursive(entry.setOp("Write"));
                    default -> {
                        // discard bytes and operations have no v1 table
                    }
                }
            }
        }
        return io.build();
    }

    /** {@code hugetlb.<size>.current} and the {@code max} count of {@code hugetlb.<size>.events}, keyed by size ("2MB"). */
    @Override
    Map<String, HugetlbStats> hugetlb() throws IOException {
        Map<String, HugetlbStats> sizes = new TreeMap<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path file : files.filter(f -> f.getFileName().toString().matches("hugetlb\\.[^.]+\\.current")).toList()) {
                String size = file.getFileName().toString().split("\\.")[1];
                sizes.put(size, HugetlbStats.newBuilder().setUsage(CgroupFiles.number(file))
                        .setFailcnt(CgroupFiles.flatKeyedIfPresent(dir.resolve("hugetlb." + size + ".events")).getOrDefault("max", 0L))
                        .build());
            }
        }
        return sizes;
    }
}
