package dev.katashim.vmm.qemu;

import dev.katashim.vmm.VmmExit;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

/** QEMU did not come up: it exited, or its QMP socket never answered. The message carries QEMU's stderr. */
public final class QemuStartException extends IOException {
    private final transient Optional<VmmExit> exit;
    private final String stderr;

    QemuStartException(String message, Optional<VmmExit> exit, String stderr) {
        super(message);
        this.exit = exit;
        this.stderr = stderr;
    }

    /** How QEMU ended, if it did. */
    public Optional<VmmExit> exit() {
        return exit;
    }

    /** What QEMU wrote to stdout/stderr. */
    public String stderr() {
        return stderr;
    }

    static QemuStartException exited(Path qemu, VmmExit exit, Path log, String output) {
        return new QemuStartException("QEMU " + qemu + " failed to start: it " + exit + "; its output (" + log + "):\n"
                + (output.isBlank() ? "(nothing)" : output.strip()), Optional.of(exit), output);
    }
}
