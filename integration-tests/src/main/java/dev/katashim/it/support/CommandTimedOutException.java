package dev.katashim.it.support;

import java.time.Duration;
import java.util.List;

/** A command ran past its timeout; its whole process tree has been killed. */
public final class CommandTimedOutException extends RuntimeException {

    private final CommandResult partialResult;

    CommandTimedOutException(List<String> command, Duration timeout, CommandResult partialResult) {
        super("timed out after " + timeout.toMillis() + " ms (process tree killed): "
                + String.join(" ", command) + "\n--- stdout so far ---\n" + partialResult.stdout()
                + "\n--- stderr so far ---\n" + partialResult.stderr());
        this.partialResult = partialResult;
    }

    /** Output captured before the kill; the exit code is the killed process's. */
    public CommandResult partialResult() {
        return partialResult;
    }
}
