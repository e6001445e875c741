package dev.katashim.vmm.qmp;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;

/** Event parsing, on messages as QEMU 7.2 sends them. */
class QmpEventTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void shutdown() throws Exception {
        QmpEvent e = QmpEvent.parse(JSON.readTree("""
                {"timestamp": {"seconds": 1795662086, "microseconds": 98894}, "event": "SHUTDOWN", "data": {"guest": true, "reason": "guest-shutdown"}}"""));
        assertThat(e).isEqualTo(new QmpEvent.Shutdown(Instant.ofEpochSecond(1795662086, 98_894_000), true, "guest-shutdown"));
    }

    @Test
    void guestPanicked() throws Exception {
        QmpEvent e = QmpEvent.parse(JSON.readTree("""
                {"timestamp": {"seconds": 1, "microseconds": 0}, "event": "GUEST_PANICKED", "data": {"action": "poweroff"}}"""));
        assertThat(e).isInstanceOfSatisfying(QmpEvent.GuestPanicked.class, p -> assertThat(p.action()).isEqualTo("poweroff"));
    }

    @Test
    void stopAndOthers() throws Exception {
        assertThat(QmpEvent.parse(JSON.readTree("{\"timestamp\": {\"seconds\": 1, \"microseconds\": 0}, \"event\": \"STOP\"}")))
                .isInstanceOf(QmpEvent.Stop.class);
        assertThat(QmpEvent.parse(JSON.readTree("{\"timestamp\": {\"seconds\": 1, \"microseconds\": 0}, \"event\": \"RESUME\"}")).name())
                .isEqualTo("RESUME");
    }
}
