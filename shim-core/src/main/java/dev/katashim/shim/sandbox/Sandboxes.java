package dev.katashim.shim.sandbox;

import java.nio.file.Path;
import java.util.Optional;

/** The sandbox lifecycle a shim drives: one pod's sandbox, opened by its first container's Create. */
public interface Sandboxes {
    /**
     * The sandbox {@code sandboxId}, booted (or taken over from the boot that began when the shim
     * started) with the configuration file {@code configPath} asks for, and created in its agent with
     * {@code hostname}. When it fails nothing of it is left.
     */
    Sandbox open(String sandboxId, Optional<Path> configPath, String hostname) throws Exception;

    /** Stops whatever this shim started: the open sandbox, and one still booting. */
    void shutdown();
}
