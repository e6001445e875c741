package dev.katashim.shim.logging;

import ch.qos.logback.classic.Level;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns the shim's log to debug level, as upstream does for containerd's {@code -debug} flag
 * (containerd passes it when its own log level is debug) and for {@code [runtime] enable_debug}.
 * The shim's log is containerd's: its stderr is the bundle's log FIFO. A finer level already set
 * ({@code KATA_SHIM_LOG_LEVEL=trace}) is kept.
 */
public final class DebugLogging {
    private static final Logger log = LoggerFactory.getLogger(DebugLogging.class);

    private DebugLogging() {
    }

    public static void enable(String why) {
        if (LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME) instanceof ch.qos.logback.classic.Logger root
                && !root.isDebugEnabled()) {
            root.setLevel(Level.DEBUG);
            log.debug("debug logging on: {}", why);
        }
    }

    public static boolean enabled() {
        return LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME).isDebugEnabled();
    }
}
