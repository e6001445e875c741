package dev.katashim.shim.sandbox;

import dev.katashim.shim.oci.Bundle;

import java.nio.file.Path;
import java.util.Optional;

/** The sandbox lifecycle a shim drives: one pod's sandbox, opened by its first container's Create. */
public interface Sandboxes {
    /**
     * The sandbox {@code sandboxId}, booted (or taken over from the boot that began when the shim
     * started) with the configuration file {@code configPath} asks for, and created in its agent as
     * its first container's {@code bundle} says (hostname, /dev/shm, hooks). When it fails nothing of it is left.
     */
    Sandbox open(String sandboxId, Optional<Path> configPath, Bundle bundle) throws Exception;

    /** Stops whatever this shim started: the open sandbox, and one still booting. */
    void shutdown();
}
