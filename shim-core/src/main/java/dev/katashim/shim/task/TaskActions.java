package dev.katashim.shim.task;

import java.util.Map;

/**
 * The metrics action name (docs/metrics.md) of each Task RPC ({@code ResizePty} → {@code resize_pty}),
 * for task v2 and v3 alike; other services' calls (the Sandbox API) have none.
 */
public final class TaskActions {
    private static final Map<String, String> BY_METHOD = Map.ofEntries(
            Map.entry("Checkpoint", "checkpoint"), Map.entry("CloseIO", "close_io"), Map.entry("Connect", "connect"),
            Map.entry("Create", "create"), Map.entry("Delete", "delete"), Map.entry("Exec", "exec"),
            Map.entry("Kill", "kill"), Map.entry("Pause", "pause"), Map.entry("Pids", "pids"),
            Map.entry("ResizePty", "resize_pty"), Map.entry("Resume", "resume"), Map.entry("Shutdown", "shutdown"),
            Map.entry("Start", "start"), Map.entry("State", "state"), Map.entry("Stats", "stats"),
            Map.entry("Update", "update"), Map.entry("Wait", "wait"));

    private TaskActions() {
    }

    /** The action for {@code method}, or null for a method the Task API does not have. */
    public static String of(String method) {
        return BY_METHOD.get(method);
    }

    /** The action for {@code method} of {@code service}, or null unless it is a Task API (v2 or v3) method. */
    public static String of(String service, String method) {
        return TaskService.NAME.equals(service) || TaskService.NAME_V3.equals(service) ? of(method) : null;
    }

    public static java.util.Collection<String> all() {
        return BY_METHOD.values();
    }
}
