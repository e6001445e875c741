package dev.katashim.agent.guest.runc;

/** A runc command that failed: what was asked, its exit status and what runc said. */
public final class RuncException extends Exception {
    private final int exitStatus;
    private final String runcMessage;

    public RuncException(String action, int exitStatus, String runcMessage) {
        super(action + " failed" + (exitStatus >= 0 ? " (exit status " + exitStatus + ")" : "")
                + (runcMessage.isBlank() ? "" : ": " + runcMessage.strip()));
        this.exitStatus = exitStatus;
        this.runcMessage = runcMessage.strip();
    }

    public int exitStatus() {
        return exitStatus;
    }

    public String runcMessage() {
        return runcMessage;
    }

    /** runc's way of saying the container is not there (any more). */
    public boolean containerMissing() {
        return runcMessage.contains("does not exist") || runcMessage.contains("not exist")
                || runcMessage.contains("container not running");
    }
}
