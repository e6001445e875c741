package dev.katashim.vmm.qmp;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;

import java.time.Instant;

/** An asynchronous QMP event. The three the shim acts on have their own type; others are {@link Other}. */
public sealed interface QmpEvent {
    /** When QEMU says it happened. */
    Instant at();

    /** The QMP event name ({@code SHUTDOWN}, ...). */
    String name();

    /** The VM is shutting down: {@code guest} tells whether the guest asked (poweroff, reset with -no-reboot, panic). */
    record Shutdown(Instant at, boolean guest, String reason) implements QmpEvent {
        @Override
        public String name() {
            return "SHUTDOWN";
        }
    }

    /** The VM's vCPUs stopped (a pause, an error, or the way to a shutdown). */
    record Stop(Instant at) implements QmpEvent {
        @Override
        public String name() {
            return "STOP";
        }
    }

    /** The guest reported a panic through a pvpanic device; {@code action} is what QEMU does about it. */
    record GuestPanicked(Instant at, String action, JsonNode info) implements QmpEvent {
        @Override
        public String name() {
            return "GUEST_PANICKED";
        }
    }

    record Other(Instant at, String name, JsonNode data) implements QmpEvent {
    }

    /** Reads an event message: {@code {"event": NAME, "data": {...}, "timestamp": {"seconds": s, "microseconds": us}}}. */
    static QmpEvent parse(JsonNode message) {
        String name = message.path("event").asText();
        JsonNode data = message.has("data") ? message.get("data") : NullNode.getInstance();
        JsonNode ts = message.path("timestamp");
        Instant at = ts.has("seconds")
                ? Instant.ofEpochSecond(ts.path("seconds").asLong(), ts.path("microseconds").asLong() * 1000)
                : Instant.now();
        return switch (name) {
            case "SHUTDOWN" -> new Shutdown(at, data.path("guest").asBoolean(false), data.path("reason").asText(""));
            case "STOP" -> new Stop(at);
            case "GUEST_PANICKED" -> new GuestPanicked(at, data.path("action").asText(""), data.path("info"));
            default -> new Other(at, name, data);
        };
    }
}
