package dev.katashim.shim.sandbox;

import com.fasterxml.jackson.databind.node.NullNode;
import dev.katashim.vmm.qmp.QmpEvent;
import org.junit.jupiter.api.Test;

import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;

class GuestFaultsTest {
    @Test
    void aPanicIsTheCauseEvenWhenTheShutdownFollows() {
        GuestFaults faults = new GuestFaults("sb");
        faults.accept(new QmpEvent.GuestPanicked(Instant.now(), "poweroff", NullNode.getInstance()));
        faults.accept(new QmpEvent.Shutdown(Instant.now(), true, "guest-panic"));
        assertThat(faults.cause()).contains(GuestFaults.PANIC);
    }

    @Test
    void aGuestPoweroffOrResetIsNamedAndTheHostsQuitIsNot() {
        GuestFaults poweroff = new GuestFaults("sb");
        poweroff.accept(new QmpEvent.Shutdown(Instant.now(), true, "guest-shutdown"));
        assertThat(poweroff.cause()).contains("the guest powered off");
        GuestFaults reset = new GuestFaults("sb");
        reset.accept(new QmpEvent.Shutdown(Instant.now(), true, "guest-reset"));
        assertThat(reset.cause()).contains("the guest reset itself");
        GuestFaults quit = new GuestFaults("sb");
        quit.accept(new QmpEvent.Shutdown(Instant.now(), false, "host-qmp-quit"));
        assertThat(quit.cause()).isEmpty();
    }
}
