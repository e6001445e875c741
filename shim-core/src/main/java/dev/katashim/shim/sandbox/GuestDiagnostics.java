package dev.katashim.shim.sandbox;

import dev.katashim.shim.logging.DebugLogging;
import dev.katashim.vmm.Hypervisor;
import dev.katashim.vmm.qemu.QemuHypervisor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * What a sandbox's guest says, for the shim's log (containerd's): its console at debug level
 * while it runs ({@link GuestConsole}), how it ended ({@link GuestFaults}), and when it failed to
 * boot or died on its own, its console's last lines and a kept copy of the whole console log
 * ({@link KeptConsoleLogs}), since the sandbox directory holding the original is removed.
 */
final class GuestDiagnostics implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(GuestDiagnostics.class);
    private static final int LAST_LINES = 15;

    private final String sandboxId;
    private final Optional<Path> console;
    private final KeptConsoleLogs kept;
    private final GuestFaults faults;
    private final GuestConsole follower;
    private final ConsoleLogLimit limit;

    private GuestDiagnostics(String sandboxId, Optional<Path> console, KeptConsoleLogs kept, GuestFaults faults, GuestConsole follower,
                             ConsoleLogLimit limit) {
        this.sandboxId = sandboxId;
        this.console = console;
        this.kept = kept;
        this.faults = faults;
        this.follower = follower;
        this.limit = limit;
    }

    /** Once the hypervisor started: bounds the console log, follows it if the shim logs at debug level, listens to QEMU's events. */
    static GuestDiagnostics start(String sandboxId, Hypervisor hypervisor, KeptConsoleLogs kept) {
        GuestFaults faults = new GuestFaults(sandboxId);
        if (hypervisor instanceof QemuHypervisor qemu) {
            qemu.addEventListener(faults);
        }
        Optional<Path> console = hypervisor.consoleLog();
        GuestConsole follower = console.filter(c -> DebugLogging.enabled()).map(c -> GuestConsole.follow(sandboxId, c)).orElse(null);
        ConsoleLogLimit limit = console.map(c -> ConsoleLogLimit.start(sandboxId, c, ConsoleLogLimit.DEFAULT_LIMIT)).orElse(null);
        return new GuestDiagnostics(sandboxId, console, kept, faults, follower, limit);
    }

    /** The boot failure {@code failure}, naming a kept copy of the console log; call once the hypervisor is stopped. */
    IOException bootFailed(IOException failure) {
        close();
        String where = console.flatMap(c -> kept.keep(sandboxId, c))
                .map(copy -> "; the guest's console log is kept in " + copy)
                .orElse(console.map(c -> "; the guest's console log was " + c).orElse(""));
        return new IOException(failure.getMessage() + where, failure);
    }

    /**
     * The sandbox ended without being asked to (its VM died, or the agent's connection broke): logs
     * why, as far as QEMU's events or the console tell, with the console's last lines and a kept copy.
     * Call once the hypervisor is stopped.
     */
    void endedOnItsOwn(String how) {
        close();
        if (console.isEmpty()) {
            log.warn("sandbox {} ended on its own: {}", sandboxId, how);
            return;
        }
        List<String> last = ConsoleTail.lastLines(console.get(), LAST_LINES);
        String cause = faults.cause().filter(GuestFaults.PANIC::equals)
                .or(() -> last.stream().anyMatch(l -> l.contains("Kernel panic")) ? Optional.of(GuestFaults.PANIC) : Optional.empty())
                .or(faults::cause).map(c -> c + ": ").orElse("");
        String copy = kept.keep(sandboxId, console.get()).map(p -> "\nthe whole console log is kept in " + p).orElse("");
        log.warn("sandbox {} ended on its own: {}{}; the guest console's last lines:\n  {}{}", sandboxId, cause, how,
                String.join("\n  ", last), copy);
    }

    /** Stops following the console, after reading what it holds. */
    @Override
    public void close() {
        if (follower != null) {
            follower.close();
        }
        if (limit != null) {
            limit.close();
        }
    }
}
