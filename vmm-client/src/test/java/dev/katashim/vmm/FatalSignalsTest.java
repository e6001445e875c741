package dev.katashim.vmm;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class FatalSignalsTest {
    @Test
    void javaExitValuesOfSignalledProcessesAreReadAsSignals() {
        assertThat(VmmExit.of(0)).isEqualTo(new VmmExit.Exited(0));
        assertThat(VmmExit.of(1)).isEqualTo(new VmmExit.Exited(1));
        assertThat(VmmExit.of(137)).isEqualTo(new VmmExit.Killed(Signal.SIGKILL));
        assertThat(VmmExit.of(137).status()).isEqualTo(137);
        assertThat(VmmExit.of(139).toString()).isEqualTo("killed by SIGSEGV");
    }

    @Test
    void onlySigbusSigsegvAndSigsysAreCounted() {
        assertThat(FatalSignals.of(VmmExit.of(128 + 7))).isEqualTo(new FatalSignals(1, 0, 0));
        assertThat(FatalSignals.of(VmmExit.of(128 + 11))).isEqualTo(new FatalSignals(0, 1, 0));
        assertThat(FatalSignals.of(VmmExit.of(128 + 31)).seccompFaults()).isEqualTo(1);
        assertThat(FatalSignals.of(VmmExit.of(137))).isEqualTo(FatalSignals.NONE);
        assertThat(FatalSignals.of(VmmExit.of(134))).isEqualTo(FatalSignals.NONE);
        assertThat(FatalSignals.of(VmmExit.of(0))).isEqualTo(FatalSignals.NONE);
    }
}
