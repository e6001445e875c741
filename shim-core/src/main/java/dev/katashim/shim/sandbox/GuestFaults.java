package dev.katashim.shim.sandbox;

import dev.katashim.vmm.qmp.QmpEvent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Optional;
import java.util.function.Consumer;

/**
 * What QEMU says about how its guest ended (QMP events): a kernel panic (GUEST_PANICKED, from the
 * guest's pvpanic driver), a poweroff or a reset the guest asked for. A panic is logged at once;
 * the first cause seen is kept for the report of the sandbox's end.
 */
final class GuestFaults implements Consumer<QmpEvent> {
    private static final Logger log = LoggerFactory.getLogger(GuestFaults.class);
    static final String PANIC = "a guest kernel panic";

    private final String sandboxId;
    private volatile String cause;

    GuestFaults(String sandboxId) {
        this.sandboxId = sandboxId;
    }

    @Override
    public void accept(QmpEvent event) {
        switch (event) {
            case QmpEvent.GuestPanicked panicked -> {
                log.error("sandbox {}: the guest kernel panicked (QEMU reported GUEST_PANICKED, action {})", sandboxId, panicked.action());
                record(PANIC);
            }
            case QmpEvent.Shutdown shutdown when shutdown.guest() -> {
                log.info("sandbox {}: the guest shut the VM down (QEMU reported SHUTDOWN, reason {})", sandboxId, shutdown.reason());
                record(switch (shutdown.reason()) {
                    case "guest-panic" -> PANIC;
                    case "guest-shutdown" -> "the guest powered off";
                    // with panic=1 and -no-reboot, a panic without the pvpanic driver ends as a reset
                    case "guest-reset" -> "the guest reset itself";
                    default -> "the guest shut down (" + shutdown.reason() + ")";
                });
            }
            default -> {
            }
        }
    }

    private synchronized void record(String what) {
        if (cause == null) {
            cause = what;
        }
    }

    Optional<String> cause() {
        return Optional.ofNullable(cause);
    }
}
