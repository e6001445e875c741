package dev.katashim.sys;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

class KeyValuesTest {

    /** Lines of a 6.x kernel's /proc/<pid>/status, the counts among values that are not counts. */
    private static final String STATUS = """
            Name:\tjava
            State:\tS (sleeping)
            Pid:\t4242
            Uid:\t0\t0\t0\t0
            VmRSS:\t  123456 kB
            Threads:\t23
            SigQ:\t1/96363
            untag_mask:\t0xffffffffffffffff
            x86_Thread_features:\t
            Cpus_allowed:\tff
            Cpus_allowed_list:\t0-1
            Mems_allowed:\t00000000,00000001
            Speculation_Store_Bypass:\tthread vulnerable
            voluntary_ctxt_switches:\t150
            """;

    @Test
    void keepsTheCountsAndSkipsEveryOtherValue() {
        Map<String, Long> values = KeyValues.parse(STATUS, true);

        assertThat(values).containsExactly(
                Map.entry("Pid", 4242L), Map.entry("VmRSS", 123456L * 1024),
                Map.entry("Threads", 23L), Map.entry("voluntary_ctxt_switches", 150L));
    }

    @Test
    void kilobytesStayKilobytesWhenAskedAndNegativeValuesAreKept() {
        Map<String, Long> values = KeyValues.parse("MemTotal:  2048 kB\nCommitted_AS:  -12 kB\nHugePages_Total:  0\n", false);

        assertThat(values).containsExactly(Map.entry("MemTotal", 2048L), Map.entry("Committed_AS", -12L), Map.entry("HugePages_Total", 0L));
    }

    @Test
    void digitsBeyondALongAndALoneMinusAreSkipped() {
        assertThat(KeyValues.parse("Big:\t18446744073709551616\nDash:\t-\nFine:\t7\n", false)).containsExactly(Map.entry("Fine", 7L));
    }

    @Test
    void readsThisProcessStatus() throws IOException {
        Map<String, Long> values = KeyValues.parse(Files.readString(Path.of("/proc/self/status")), true);

        assertThat(values.get("Pid")).isEqualTo(ProcessHandle.current().pid());
        assertThat(values.get("VmRSS")).isPositive();
        assertThat(values.get("Threads")).isPositive();
    }
}
