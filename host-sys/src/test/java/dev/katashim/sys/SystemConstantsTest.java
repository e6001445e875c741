package dev.katashim.sys;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class SystemConstantsTest {

    private static long getconf(String name) throws Exception {
        Process p = new ProcessBuilder("getconf", name).start();
        String value = new String(p.getInputStream().readAllBytes()).strip();
        assertThat(p.waitFor()).isZero();
        return Long.parseLong(value);
    }

    @Test
    void sysconfAgreesWithGetconf() throws Exception {
        assertThat(SystemConstants.CLOCK_TICKS_PER_SECOND).isEqualTo(getconf("CLK_TCK"));
        assertThat(SystemConstants.PAGE_SIZE).isEqualTo(getconf("PAGESIZE"));
    }
}
