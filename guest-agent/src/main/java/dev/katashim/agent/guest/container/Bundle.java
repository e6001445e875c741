package dev.katashim.agent.guest.container;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * A container's runc bundle directory under the agent's state dir: config.json, and per process a
 * pid file, a runc log, a process.json (execs) and a console socket (terminals).
 */
public record Bundle(Path dir) {

    public Path configJson() {
        return dir.resolve("config.json");
    }

    public Path pidFile(String execId) {
        return dir.resolve(fileName(execId) + ".pid");
    }

    public Path runcLog(String execId) {
        return dir.resolve(fileName(execId) + ".runc.log");
    }

    public Path processJson(String execId) {
        return dir.resolve(fileName(execId) + ".process.json");
    }

    public Path resourcesJson() {
        return dir.resolve("update-resources.json");
    }

    public static Bundle create(Path dir) throws IOException {
        Files.createDirectories(dir);
        return new Bundle(dir);
    }

    public void delete() throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** Exec ids come from the caller: keep file names tame. */
    private static String fileName(String execId) {
        return "p-" + execId.replaceAll("[^A-Za-z0-9_.-]", "_");
    }
}
