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
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * A container's cgroup v1 statistics: one directory per hierarchy (cpu, cpuacct, memory, pids,
 * blkio, hugetlb, … mounted apart or together), each file looked up in whichever directory holds
 * it. The figures are runc's: {@code cpuacct.stat} ticks are USER_HZ (100 per second) and become
 * nanoseconds; the blkio tables are the CFQ/BFQ ones where the kernel has them, else the throttle
 * ones.
 */
final class CgroupV1Sampler extends CgroupSampler {
    private static final long NANOS_PER_TICK = 1_000_000_000L / 100; // USER_HZ is 100 on every Linux architecture runc supports

    private final List<Path> dirs;
    /** Every control file of the container's hierarchies by name: one listing per hierarchy, not a probe per file and hierarchy. */
    private final Map<String, Path> files = new HashMap<>();

    CgroupV1Sampler(List<Path> dirs) throws IOException {
        this.dirs = List.copyOf(dirs);
        for (Path dir : this.dirs) {
            try (Stream<Path> listing = Files.list(dir)) {
                listing.forEach(file -> files.putIfAbsent(file.getFileName().toString(), file));
            }
        }
    }

    @Override
    Path dir() {
        return dirs.getFirst();
    }

    /** The file of that name in the hierarchy that has it (empty if none has it). */
    private Optional<Path> file(String name) {
        return Optional.ofNullable(files.get(name));
    }

    private long number(String name) throws IOException {
        Optional<Path> file = file(name);
        return file.isPresent() ? CgroupFiles.number(file.get()) : 0;
    }

    private Map<String, Long> flatKeyed(String name) throws IOException {
        Optional<Path> file = file(name);
        return file.isPresent() ? CgroupFiles.flatKeyed(file.get()) : Map.of();
    }

    @Override
    CpuStats cpu() throws IOException {
        CpuUsage.Builder usage = CpuUsage.newBuilder().setTotalUsage(number("cpuacct.usage"));
        Optional<Path> perCpu = file("cpuacct.usage_percpu");
        if (perCpu.isPresent()) {
            for (String value : Files.readString(perCpu.get()).strip().split("\\s+")) {
                if (!value.isEmpty()) {
                    usage.addPercpuUsage(CgroupFiles.parse(perCpu.get(), value));
                }
            }
        }
        Map<String, Long> ticks = flatKeyed("cpuacct.stat");
        usage.setUsageInUsermode(ticks.getOrDefault("user", 0L) * NANOS_PER_TICK)
                .setUsageInKernelmode(ticks.getOrDefault("system", 0L) * NANOS_PER_TICK);
        Map<String, Long> throttling = flatKeyed("cpu.stat");
        return CpuStats.newBuilder().setCpuUsage(usage).setThrottlingData(ThrottlingData.newBuilder()
                        .setPeriods(throttling.getOrDefault("nr_periods", 0L))
                        .setThrottledPeriods(throttling.getOrDefault("nr_throttled", 0L))
                        .setThrottledTime(throttling.getOrDefault("throttled_time", 0L)))
                .build();
    }

    @Override
    MemoryStats memory() throws IOException {
        Map<String, Long> stat = flatKeyed("memory.stat");
        return MemoryStats.newBuilder()
                .putAllStats(stat)
                .setCache(stat.getOrDefault("cache", 0L))
                .setUsage(memoryData("memory"))
                .setSwapUsage(memoryData("memory.memsw"))
                .setKernelUsage(memoryData("memory.kmem"))
                .setUseHierarchy(number("memory.use_hierarchy") == 1)
                .build();
    }

    /** {@code <prefix>.usage_in_bytes}, {@code .max_usage_in_bytes}, {@code .failcnt}, {@code .limit_in_bytes}; zero where absent (no swap or kernel accounting). */
    private MemoryData memoryData(String prefix) throws IOException {
        return MemoryData.newBuilder()
                .setUsage(number(prefix + ".usage_in_bytes"))
                .setMaxUsage(number(prefix + ".max_usage_in_bytes"))
                .setFailcnt(number(prefix + ".failcnt"))
                .setLimit(number(prefix + ".limit_in_bytes"))
                .build();
    }

    @Override
    PidsStats pids() throws IOException {
        long max = number("pids.max");
        return PidsStats.newBuilder().setCurrent(number("pids.current")).setLimit(max == CgroupFiles.UNLIMITED ? 0 : max).build();
    }

    @Override
    BlkioStats blkio() throws IOException {
        BlkioStats.Builder blkio = BlkioStats.newBuilder();
        Optional<Path> scheduler = file("blkio.io_serviced_recursive");
        if (scheduler.isPresent() && !Files.readString(scheduler.get()).isBlank()) {
            entries("blkio.io_service_bytes_recursive", blkio::addIoServiceBytesRecursive);
            entries("blkio.io_serviced_recursive", blkio::addIoServicedRecursive);
            entries("blkio.io_queued_recursive", blkio::addIoQueuedRecursive);
            entries("blkio.io_service_time_recursive", blkio::addIoServiceTimeRecursive);
            entries("blkio.io_wait_time_recursive", blkio::addIoWaitTimeRecursive);
            entries("blkio.io_merged_recursive", blkio::addIoMergedRecursive);
            entries("blkio.time_recursive", blkio::addIoTimeRecursive);
            entries("blkio.sectors_recursive", blkio::addSectorsRecursive);
        } else {
            entries("blkio.throttle.io_service_bytes_recursive", blkio::addIoServiceBytesRecursive);
            entries("blkio.throttle.io_serviced_recursive", blkio::addIoServicedRecursive);
        }
        return blkio.build();
    }

    /** Lines {@code MAJ:MIN Op value} or {@code MAJ:MIN value}; the closing {@code Total n} is no device. */
    private void entries(String name, Consumer<BlkioStatsEntry> add) throws IOException {
        Optional<Path> file = file(name);
        if (file.isEmpty()) {
            return;
        }
        for (String[] fields : CgroupFiles.fieldsIfPresent(file.get())) {
            String[] device = fields[0].split(":");
            if (device.length != 2 || fields.length < 2) {
                continue;
            }
            BlkioStatsEntry.Builder entry = BlkioStatsEntry.newBuilder()
                    .setMajor(CgroupFiles.parse(file.get(), device[0]))
                    .setMinor(CgroupFiles.parse(file.get(), device[1]));
            if (fields.length >= 3) {
                entry.setOp(fields[1]);
            }
            add.accept(entry.setValue(CgroupFiles.parse(file.get(), fields[fields.length - 1])).build());
        }
    }

    /** {@code hugetlb.<size>.usage_in_bytes}, {@code .max_usage_in_bytes}, {@code .failcnt}, keyed by size ("2MB"). */
    @Override
    Map<String, HugetlbStats> hugetlb() throws IOException {
        Map<String, HugetlbStats> sizes = new TreeMap<>();
        for (Map.Entry<String, Path> file : files.entrySet()) {
            if (file.getKey().matches("hugetlb\\.[^.]+\\.usage_in_bytes")) {
                String prefix = "hugetlb." + file.getKey().split("\\.")[1];
                sizes.put(prefix.substring("hugetlb.".length()), HugetlbStats.newBuilder()
                        .setUsage(CgroupFiles.number(file.getValue()))
                        .setMaxUsage(number(prefix + ".max_usage_in_bytes"))
                        .setFailcnt(number(prefix + ".failcnt"))
                        .build());
            }
        }
        return sizes;
    }
}
