package dev.katashim.agent.guest.storage;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.katashim.agent.guest.AgentStatus;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The bind mounts of a container's config.json, whose sources are guest paths: the shared
 * directory's files and directories, the sandbox's shm, ephemeral and local storages. Each source
 * is taken where {@link GuestPaths} puts it, and must exist: a missing one (a host path that was
 * never shared) is INVALID_ARGUMENT naming the mount, not a runc error at start. runc itself
 * makes the destination (a file for a file) and honours {@code ro}.
 */
public final class SpecMounts {
    private SpecMounts() {
    }

    public static void resolve(ObjectNode config, GuestPaths paths, String containerId) {
        for (JsonNode node : config.path("mounts")) {
            ObjectNode mount = (ObjectNode) node;
            String source = mount.path("source").asText("");
            if (!isBind(mount) || !source.startsWith("/")) {
                continue;
            }
            Path resolved = paths.resolve(Path.of(source).normalize());
            if (!Files.exists(resolved)) {
                throw AgentStatus.invalid("CreateContainer: container " + AgentStatus.quote(containerId) + ": the bind mount on "
                        + AgentStatus.quote(mount.path("destination").asText()) + " has no source " + AgentStatus.quote(source)
                        + " in the guest (not shared, or its storage not given?)");
            }
            mount.put("source", resolved.toString());
        }
    }

    private static boolean isBind(JsonNode mount) {
        if (mount.path("type").asText("").equals("bind")) {
            return true;
        }
        for (JsonNode option : mount.path("options")) {
            if (option.asText().equals("bind") || option.asText().equals("rbind")) {
                return true;
            }
        }
        return false;
    }
}
