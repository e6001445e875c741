package dev.katashim.agent.guest.sandbox;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.nio.file.Path;
import java.util.Iterator;

/**
 * The namespaces of a container's config.json, as upstream's agent sets them: the ipc and uts
 * entries the spec has join the sandbox's (so its hostname is the sandbox's and the spec's own
 * is not set), and the pid namespace is the agent's choice (a new one, or the sandbox's first
 * container's). Paths the shim sent are the host's and mean nothing here: they are replaced.
 */
public final class ContainerNamespaces {
    private ContainerNamespaces() {
    }

    /** Points the config's ipc and uts namespaces at the sandbox's persistent ones. */
    public static void joinSandbox(ObjectNode config, Path ipc, Path uts) {
        for (JsonNode entry : namespaces(config)) {
            switch (entry.path("type").asText()) {
                case "ipc" -> ((ObjectNode) entry).put("path", ipc.toString());
                case "uts" -> {
                    ((ObjectNode) entry).put("path", uts.toString());
                    // runc would set it in the shared namespace, for every container of the sandbox
                    config.remove("hostname");
                }
                default -> {
                }
            }
        }
    }

    /** Makes the container's pid namespace a new one ({@code path} null) or the one at {@code path}. */
    public static void usePidNamespace(ObjectNode config, String path) {
        ArrayNode namespaces = namespaces(config);
        for (Iterator<JsonNode> it = namespaces.elements(); it.hasNext(); ) {
            if (it.next().path("type").asText().equals("pid")) {
                it.remove();
            }
        }
        ObjectNode pid = namespaces.addObject().put("type", "pid");
        if (path != null) {
            pid.put("path", path);
        }
    }

    private static ArrayNode namespaces(ObjectNode config) {
        ObjectNode linux = config.has("linux") ? (ObjectNode) config.get("linux") : config.putObject("linux");
        return linux.has("namespaces") ? (ArrayNode) linux.get("namespaces") : linux.putArray("namespaces");
    }
}
