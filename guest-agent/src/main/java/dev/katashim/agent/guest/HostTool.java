package dev.katashim.agent.guest;

import dev.katashim.sys.HostCommand;

import java.io.IOException;
import java.time.Duration;
import java.util.List;

/** A host tool (mount, modprobe) run for an agent call: its failure answers the call INTERNAL with what the tool said. */
public final class HostTool {
    private HostTool() {
    }

    /** Runs {@code command} within {@code timeout}; {@code what} names it in the error ("mount /a on /b"). */
    public static void run(List<String> command, Duration timeout, String what) throws InterruptedException {
        try {
            HostCommand.run(command, timeout, what);
        } catch (IOException e) {
            if (Thread.interrupted()) {
                throw new InterruptedException(e.getMessage()); // the caller stops, as it would while waiting itself
            }
            throw AgentStatus.internal(e.getMessage());
        }
    }
}
