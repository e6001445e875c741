package dev.katashim.agent.guest.storage;

import java.nio.file.Path;

/** A filesystem the agent mounted for a container or the sandbox; shared ones live until the sandbox ends. */
public record MountedStorage(String source, Path mountPoint, String fstype, boolean shared) {
}
