package dev.katashim.agent.guest.stats;

import dev.katashim.protocols.kata.agent.BlkioStats;
import dev.katashim.protocols.kata.agent.CgroupStats;
import dev.katashim.protocols.kata.agent.CpuStats;
import dev.katashim.protocols.kata.agent.HugetlbStats;
import dev.katashim.protocols.kata.agent.MemoryStats;
import dev.katashim.protocols.kata.agent.PidsStats;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One container's cgroup statistics read straight from its cgroup files, the figures
 * {@code runc events --stats} reports, without forking runc for each sample (a fork of runc costs
 * the agent milliseconds per {@code StatsContainer}; a few file reads cost microseconds).
 */
public abstract sealed class CgroupSampler permits CgroupV1Sampler, CgroupV2Sampler {

    public final CgroupStats sample() throws IOException {
        CgroupStats stats = CgroupStats.newBuilder()
                .setCpuStats(cpu())
                .setMemoryStats(memory())
                .setPidsStats(pids())
                .setBlkioStats(blkio())
                .putAllHugetlbStats(hugetlb())
                .build();
        if (Files.notExists(dir())) { // removed while read: what was read may be zeros
            throw new NoSuchFileException(dir().toString(), null, "the cgroup was removed while its statistics were read");
        }
        return stats;
    }

    /** The container's cgroup directory (for v1, that of one hierarchy: runc makes and removes them together). */
    abstract Path dir();

    abstract CpuStats cpu() throws IOException;

    abstract MemoryStats memory() throws IOException;

    abstract PidsStats pids() throws IOException;

    abstract BlkioStats blkio() throws IOException;

    /** Keyed by page size ("2MB"). */
    abstract Map<String, HugetlbStats> hugetlb() throws IOException;

    /**
     * The sampler for a container whose cgroup is (one directory per mounted hierarchy) {@code dirs}:
     * the v1 directories when there are any (a hybrid host also mounts a unified hierarchy, which
     * holds no controllers then), else the unified (v2) directory. Empty when no directory exists:
     * the container's cgroup is gone, or was never made.
     */
    public static Optional<CgroupSampler> of(List<Path> dirs) throws IOException {
        List<Path> existing = dirs.stream().filter(Files::isDirectory).toList();
        List<Path> v1 = existing.stream().filter(d -> !Files.exists(d.resolve("cgroup.controllers"))).toList();
        if (!v1.isEmpty()) {
            return Optional.of(new CgroupV1Sampler(v1));
        }
        return existing.stream().findFirst().map(CgroupV2Sampler::new);
    }
}
