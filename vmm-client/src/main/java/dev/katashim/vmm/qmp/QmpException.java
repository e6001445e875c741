package dev.katashim.vmm.qmp;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;

/** A QMP command that did not succeed; every message names the command and the QMP socket. */
public abstract sealed class QmpException extends IOException {
    private final String command;
    private final Path socket;

    private QmpException(String command, Path socket, String message, Throwable cause) {
        super(message, cause);
        this.command = command;
        this.socket = socket;
    }

    public String command() {
        return command;
    }

    public Path socket() {
        return socket;
    }

    /** QEMU answered with {@code {"error": {"class": ..., "desc": ...}}}. */
    public static final class ErrorResponse extends QmpException {
        private final String errorClass;

        public ErrorResponse(String command, Path socket, String errorClass, String description) {
            super(command, socket, "QMP command '" + command + "' on " + socket + " failed: " + errorClass + ": " + description, null);
            this.errorClass = errorClass;
        }

        /** QEMU's error class, e.g. {@code CommandNotFound}, {@code GenericError}. */
        public String errorClass() {
            return errorClass;
        }
    }

    /** No reply within the command's timeout. */
    public static final class Timeout extends QmpException {
        public Timeout(String command, Path socket, Duration timeout) {
            super(command, socket, "QMP command '" + command + "' on " + socket + " got no reply within " + timeout.toMillis() + " ms", null);
        }
    }

    /** The connection closed (QEMU exited, or the client was closed) before the reply came. */
    public static final class ConnectionClosed extends QmpException {
        public ConnectionClosed(String command, Path socket, Throwable cause) {
            super(command, socket, "QMP connection " + socket + " closed before command '" + command + "' was answered"
                    + (cause == null ? "" : ": " + cause.getMessage()), cause);
        }
    }
}
