package dev.katashim.shim.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import org.slf4j.LoggerFactory;

import java.util.Optional;
import java.util.OptionalInt;

/**
 * The serving shim's log level: {@code KATA_SHIM_LOG_LEVEL} when set (logback.xml reads it), else
 * what containerd asked for: 2.3+'s BootstrapParams log level, or {@code -debug}, which every
 * release passes when its own level is debug or trace.
 */
final class ShimLogLevel {
    private ShimLogLevel() {
    }

    static void apply(String fromEnvironment, boolean debugFlag, OptionalInt containerdLevel) {
        if (fromEnvironment != null && !fromEnvironment.isBlank()) {
            return;
        }
        of(debugFlag, containerdLevel).ifPresent(level ->
                ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).setLevel(level));
    }

    /** containerd's open enum: INFO 0, more severe positive (WARN 4, ERROR 8, ...), more verbose negative (DEBUG -4, TRACE -8). */
    static Optional<Level> of(boolean debugFlag, OptionalInt containerdLevel) {
        if (containerdLevel.isPresent()) {
            int value = containerdLevel.getAsInt();
            return Optional.of(value <= -8 ? Level.TRACE : value <= -4 ? Level.DEBUG : value < 4 ? Level.INFO
                    : value < 8 ? Level.WARN : Level.ERROR);
        }
        return debugFlag ? Optional.of(Level.DEBUG) : Optional.empty();
    }
}
