package dev.katashim.shim.task;

import java.time.Instant;

/** How and when a process ended. */
record Exit(int status, Instant at) {
    /** The status the shim makes up when it cannot learn the real one (agent or VM gone), as upstream. */
    static final int UNKNOWN_STATUS = 255;
}
