package dev.katashim.agent.guest;

import dev.katashim.agent.guest.support.AgentFixture;
import dev.katashim.agent.guest.support.Specs;
import dev.katashim.protocols.kata.agent.LinuxCPU;
import dev.katashim.protocols.kata.agent.LinuxMemory;
import dev.katashim.protocols.kata.agent.LinuxPids;
import dev.katashim.protocols.kata.agent.LinuxResources;
import dev.katashim.protocols.kata.agent.UpdateContainerRequest;
import dev.katashim.ttrpc.status.StatusCode;
import dev.katashim.ttrpc.status.TtrpcException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * UpdateContainer applied to the container's cgroup with runc update, read back from the cgroup
 * files (v1 or v2, whichever this host has); nonsense values refused naming the field, the
 * container going on unchanged.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class UpdateContainerTest {
    private static AgentFixture agent;

    @BeforeAll
    static void startAgent() throws Exception {
        agent = AgentFixture.start();
    }

    @AfterEach
    void noLeftovers() throws Exception {
        agent.cleanUp();
    }

    @AfterAll
    static void stopAgent() throws Exception {
        if (agent != null) {
            agent.close();
        }
    }

    private static void update(String id, LinuxResources.Builder resources) throws InterruptedException {
        agent.call("UpdateContainer", UpdateContainerRequest.newBuilder().setContainerId(id).setResources(resources).build());
    }

    /** The first of the named control files of the container's cgroup, in any hierarchy. */
    private static Optional<String> cgroupFile(String id, String... names) throws IOException {
        for (Path parent : agent.cgroupDirs()) {
            for (String name : names) {
                Path file = parent.resolve(id).resolve(name);
                if (Files.exists(file)) {
                    return Optional.of(Files.readString(file).strip());
                }
            }
        }
        return Optional.empty();
    }

    private static boolean cgroupV2() throws IOException {
        return cgroupFile("u", "cpu.max").isPresent();
    }

    @Test
    void memoryCpuAndPidsReachTheCgroup() throws Exception {
        agent.createAndStart("u", Specs.busybox(agent.rootfs, "sleep", "300").build());

        update("u", LinuxResources.newBuilder()
                .setMemory(LinuxMemory.newBuilder().setLimit(96L << 20))
                .setCPU(LinuxCPU.newBuilder().setShares(512).setQuota(50_000).setPeriod(200_000))
                .setPids(LinuxPids.newBuilder().setLimit(42)));

        assertThat(cgroupFile("u", "memory.max", "memory.limit_in_bytes")).contains(Long.toString(96L << 20));
        assertThat(cgroupFile("u", "pids.max")).contains("42");
        if (cgroupV2()) {
            assertThat(cgroupFile("u", "cpu.max")).contains("50000 200000");
            assertThat(cgroupFile("u", "cpu.weight")).isPresent().get().isNotEqualTo("100"); // shares 512 → weight 20
        } else {
            assertThat(cgroupFile("u", "cpu.cfs_quota_us")).contains("50000");
            assertThat(cgroupFile("u", "cpu.cfs_period_us")).contains("200000");
            assertThat(cgroupFile("u", "cpu.shares")).contains("512");
        }

        // -1: no limit, where OCI allows it
        update("u", LinuxResources.newBuilder().setMemory(LinuxMemory.newBuilder().setLimit(-1))
                .setPids(LinuxPids.newBuilder().setLimit(-1)));
        assertThat(cgroupFile("u", "pids.max")).contains("max");
        assertThat(cgroupFile("u", "memory.max", "memory.limit_in_bytes").orElseThrow()).isIn("max", "9223372036854771712");
    }

    @Test
    void nonsenseValuesAreRefusedNamingTheFieldAndChangeNothing() throws Exception {
        agent.createAndStart("n", Specs.busybox(agent.rootfs, "sleep", "300").build());
        update("n", LinuxResources.newBuilder().setMemory(LinuxMemory.newBuilder().setLimit(64L << 20))
                .setPids(LinuxPids.newBuilder().setLimit(30)));
        Map<LinuxResources.Builder, String> bad = Map.of(
                LinuxResources.newBuilder().setMemory(LinuxMemory.newBuilder().setLimit(-5)), "memory.limit -5",
                LinuxResources.newBuilder().setMemory(LinuxMemory.newBuilder().setLimit(100)), "memory.limit 100",
                LinuxResources.newBuilder().setMemory(LinuxMemory.newBuilder().setLimit(64L << 20).setSwap(32L << 20)), "memory.swap",
                LinuxResources.newBuilder().setCPU(LinuxCPU.newBuilder().setPeriod(0)), "cpu.period 0",
                LinuxResources.newBuilder().setCPU(LinuxCPU.newBuilder().setShares(0)), "cpu.shares 0",
                LinuxResources.newBuilder().setCPU(LinuxCPU.newBuilder().setShares(1)), "cpu.shares 1",
                LinuxResources.newBuilder().setCPU(LinuxCPU.newBuilder().setQuota(50_000).setPeriod(5)), "cpu.period 5",
                LinuxResources.newBuilder().setCPU(LinuxCPU.newBuilder().setQuota(-3)), "cpu.quota -3",
                LinuxResources.newBuilder().setPids(LinuxPids.newBuilder().setLimit(-7)), "pids.limit -7");
        for (var entry : bad.entrySet()) {
            TtrpcException e = agent.failure("UpdateContainer", UpdateContainerRequest.newBuilder().setContainerId("n")
                    .setResources(entry.getKey()).build());
            assertThat(e.code()).as(e.getMessage()).isEqualTo(StatusCode.INVALID_ARGUMENT);
            assertThat(e.getMessage()).contains("container \"n\"").contains(entry.getValue());
        }
        assertThat(cgroupFile("n", "memory.max", "memory.limit_in_bytes")).contains(Long.toString(64L << 20));
        assertThat(cgroupFile("n", "pids.max")).contains("30");
        assertThat(agent.runcContainers()).contains("n");
        agent.exec("n", "alive", Specs.process("echo", "alive"));
        assertThat(agent.readAll("ReadStdout", "n", "alive")).isEqualTo("alive\n");
        assertThat(List.of(agent.await("n", "alive"))).containsExactly(0);
    }
}
