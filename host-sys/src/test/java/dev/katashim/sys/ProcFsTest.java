package dev.katashim.sys;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The reader against what /proc itself says, for a child process that holds still. */
class ProcFsTest {

    private static String[] statFields(String pid) throws Exception {
        String stat = Files.readString(Path.of("/proc", pid, "stat"));
        return stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    }

    /** A child that has become sleep and holds still (its loader done: the same stat line twice, 50 ms apart). */
    private static Process sleeper() throws Exception {
        Process child = new ProcessBuilder("sleep", "30").start();
        Path dir = Path.of("/proc", Long.toString(child.pid()));
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        String previous = "";
        while (true) {
            String stat = Files.readString(dir.resolve("stat"));
            if (stat.equals(previous) && Files.readString(dir.resolve("comm")).strip().equals("sleep")) {
                return child;
            }
            assertThat(System.nanoTime()).as("child holds still as sleep").isLessThan(deadline);
            previous = stat;
            Thread.sleep(50);
        }
    }

    @Test
    void aChildsFilesAreReadAsTheKernelWroteThem() throws Exception {
        Process child = sleeper();
        try {
            String pid = Long.toString(child.pid());
            ProcessSnapshot snapshot = ProcFs.HOST.read(pid);
            String[] stat = statFields(pid);
            assertThat(snapshot.stat().utime()).isEqualTo(Long.parseLong(stat[11]));
            assertThat(snapshot.stat().threads()).isEqualTo(Long.parseLong(stat[17])).isEqualTo(1);
            assertThat(snapshot.stat().startTicks()).isEqualTo(Long.parseLong(stat[19])).isEqualTo(ProcFs.HOST.startTicks(pid));
            assertThat(snapshot.stat().vsize()).isEqualTo(Long.parseLong(stat[20]));
            assertThat(snapshot.stat().rssPages()).isEqualTo(Long.parseLong(stat[21]));

            String vmSize = Files.readAllLines(Path.of("/proc", pid, "status")).stream().filter(l -> l.startsWith("VmSize:"))
                    .findFirst().orElseThrow().replaceAll("[^0-9]", "");
            assertThat(snapshot.status()).containsEntry("VmSize", Long.parseLong(vmSize) * 1024).doesNotContainKey("State");
            assertThat(snapshot.io()).containsKeys("rchar", "read_bytes", "cancelled_write_bytes");
            try (var fds = Files.list(Path.of("/proc", pid, "fd"))) {
                assertThat(snapshot.openFds()).isEqualTo(fds.count()).isEqualTo(ProcFs.HOST.openFds(pid));
            }
            String maxFiles = Files.readAllLines(Path.of("/proc", pid, "limits")).stream().filter(l -> l.startsWith("Max open files"))
                    .findFirst().orElseThrow().substring("Max open files".length()).trim().split("\\s+")[0];
            assertThat(snapshot.maxFds()).hasValue(Long.parseLong(maxFiles));
            assertThat(snapshot.netdev()).extracting(NetDevLine::name).contains("lo");
            assertThat(ProcFs.HOST.netDev(pid)).extracting(NetDevLine::name)
                    .containsExactlyElementsOf(snapshot.netdev().stream().map(NetDevLine::name).toList());
        } finally {
            child.destroyForcibly().waitFor();
        }
    }

    @Test
    void thisProcessStartedAfterBootAndBeforeNow() {
        long started = ProcFs.HOST.bootTime() + ProcFs.HOST.startTicks("self") / SystemConstants.CLOCK_TICKS_PER_SECOND;
        assertThat(Instant.ofEpochSecond(started)).isBetween(Instant.now().minus(Duration.ofHours(1)), Instant.now());
        assertThat(ProcFs.HOST.stat("self")).hasValueSatisfying(s -> assertThat(s.threads()).isGreaterThan(1));
        assertThat(ProcFs.HOST.softLimit("self", SoftLimits.MAX_ADDRESS_SPACE)).isPresent();
    }

    @Test
    void aChildInANetworkNamespaceOfItsOwnIsToldApartFromOneInOurs() throws Exception {
        Process same = sleeper();
        Process own = new ProcessBuilder("unshare", "--net", "sleep", "60").start();
        try {
            String ours = ProcFs.HOST.networkNamespace("self").orElseThrow();
            assertThat(ours).startsWith("net:[");
            assertThat(ProcFs.HOST.networkNamespace(Long.toString(same.pid()))).hasValue(ours);
            // unshare execs sleep once the namespace exists: wait for that, then it differs
            Path comm = Path.of("/proc", Long.toString(own.pid()), "comm");
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (!Files.readString(comm).strip().equals("sleep")) {
                assertThat(System.nanoTime()).as("unshare has become sleep").isLessThan(deadline);
                Thread.sleep(20);
            }
            assertThat(ProcFs.HOST.networkNamespace(Long.toString(own.pid())))
                    .hasValueSatisfying(ns -> assertThat(ns).startsWith("net:[").isNotEqualTo(ours));
            assertThat(ProcFs.HOST.networkNamespace("999999999")).isEmpty();
        } finally {
            same.destroyForcibly().waitFor();
            own.destroyForcibly().waitFor();
        }
    }

    @Test
    void aProcessThatIsGoneHasNoSnapshot() throws Exception {
        Process child = new ProcessBuilder("true").start();
        child.waitFor();
        assertThat(ProcFs.HOST.read(Long.toString(child.pid()))).isNull();
    }

    @Test
    void unreadableFilesGiveEmptyPartsNotErrors(@TempDir Path root) throws Exception {
        // a process directory with only a stat line: everything else is missing
        Files.createDirectories(root.resolve("7"));
        Files.writeString(root.resolve("7/stat"), "7 (x) S 1 7 7 0 -1 0 0 0 0 0 5 6 0 0 20 0 1 0 99 4096 2 0 0");
        ProcessSnapshot snapshot = new ProcFs(root).read("7");
        assertThat(snapshot.stat().utime()).isEqualTo(5);
        assertThat(snapshot.status()).isEmpty();
        assertThat(snapshot.io()).isEmpty();
        assertThat(snapshot.openFds()).isEqualTo(-1);
        assertThat(snapshot.maxFds()).isEmpty();
        assertThat(snapshot.netdev()).isEmpty();
        Files.writeString(root.resolve("7/stat"), "7 (x) S 1 7");
        assertThat(new ProcFs(root).read("7").stat()).isNull();
        assertThat(new ProcFs(root).startTicks("7")).isEqualTo(-1);
        assertThat(new ProcFs(root).stat("8")).isEmpty();
    }

    @Test
    void statParsingSurvivesACommandNameWithParenthesesAndSpaces() {
        ProcessStat stat = ProcessStat.parse("42 (a) b (c) S 1 42 42 0 -1 4194304 99 0 0 0 7 8 9 10 20 0 3 0 348962 3133440 380 18446744073709551615 0");
        assertThat(stat.utime()).isEqualTo(7);
        assertThat(stat.cstime()).isEqualTo(10);
        assertThat(stat.threads()).isEqualTo(3);
        assertThat(stat.startTicks()).isEqualTo(348962);
        assertThat(stat.vsize()).isEqualTo(3133440);
        assertThat(stat.rssPages()).isEqualTo(380);
    }

    @Test
    void keyValuesKeepSingleNumbersOnly() {
        Map<String, Long> values = KeyValues.parse("""
                Name:\tjava
                State:\tS (sleeping)
                Uid:\t0\t0\t0\t0
                VmRSS:\t  1200 kB
                voluntary_ctxt_switches:\t17
                HugePages_Total:       0
                """, true);
        assertThat(values).containsExactly(Map.entry("VmRSS", 1200L * 1024), Map.entry("voluntary_ctxt_switches", 17L),
                Map.entry("HugePages_Total", 0L));
        assertThat(KeyValues.parse("VmRSS: 1200 kB", false)).containsEntry("VmRSS", 1200L);
    }

    @Test
    void softLimitsReadUnlimitedAsTheKernelsInfinity() {
        String limits = """
                Limit                     Soft Limit           Hard Limit           Units
                Max open files            1024                 524288               files
                Max address space         unlimited            unlimited            bytes
                """;
        assertThat(SoftLimits.parse(limits, SoftLimits.MAX_OPEN_FILES)).hasValue(1024);
        assertThat(SoftLimits.parse(limits, SoftLimits.MAX_ADDRESS_SPACE)).hasValue(SoftLimits.UNLIMITED);
        assertThat(SoftLimits.parse(limits, "Max processes")).isEmpty();
        assertThat(Unsigned.toDouble(SoftLimits.UNLIMITED)).isEqualTo(18446744073709551615.0);
        assertThat(Unsigned.toDouble(Long.MIN_VALUE)).isEqualTo(9223372036854775808.0);
        assertThat(Unsigned.toDouble(42)).isEqualTo(42.0);
    }

    @Test
    void netDevLinesParse() {
        List<NetDevLine> devs = NetDevLine.parse(String.join("\n",
                "Inter-|   Receive                                                |  Transmit",
                " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed",
                "    lo:     120       2    0    0    0     0          0         0      120       2    0    0    0     0       0          0",
                "  eth0: 9000 10 1 2 0 0 0 3 800 8 0 4 0 0 0 0"));
        assertThat(devs).extracting(NetDevLine::name).containsExactly("lo", "eth0");
        assertThat(devs.get(1).receive()[0]).isEqualTo(9000);
        assertThat(devs.get(1).receive()[7]).isEqualTo(3);
        assertThat(devs.get(1).transmit()[3]).isEqualTo(4);
        assertThat(NetDevLine.parse("  eth1: 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0").getFirst().receive()[0]).isEqualTo(-1L);
    }
}
