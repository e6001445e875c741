package dev.katashim.shim.io;

import java.io.IOException;

/** An opened output destination: one {@link ByteSink} per stream, and how to let it go. */
sealed interface OutputSink permits FifoSink, LogFileSink, BinaryLoggerSink {

    /** Sink for the agent's stdout, or null to discard it (as /dev/null would). */
    ByteSink stdout();

    /** Sink for the agent's stderr, or null to discard it. */
    ByteSink stderr();

    /** Releases fds (and a logger process); unblocks writers stuck in {@link ByteSink#write}. Never throws. */
    void close();

    static OutputSink open(OutputTarget target, IoContext ctx) throws IOException {
        return switch (target) {
            case OutputTarget.Fifos fifos -> FifoSink.open(fifos);
            case OutputTarget.LogFile file -> LogFileSink.open(file);
            case OutputTarget.BinaryLogger logger -> BinaryLoggerSink.start(logger, ctx);
        };
    }
}
