package dev.katashim.shim.task;

import java.util.Map;

/** The metrics action name (docs/metrics.md) of each Task RPC ({@code ResizePty} → {@code resize_pty}). */
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

    public static java.util.Collection<String> all() {
        return BY_METHOD.values();
    }
}
