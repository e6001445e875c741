package dev.katashim.metrics.monitor;

import dev.katashim.metrics.server.ManagementServer;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Where the sandboxes of this node live: one directory per sandbox, named by its id, holding its
 * management socket {@code shim-monitor.sock}. The root is {@code KATA_SHIM_SANDBOX_ROOT} when set
 * (as the shim reads it), upstream's {@code /run/vc/sbs} otherwise.
 */
public record SandboxRoot(Path path) {
    public static final Path DEFAULT = Path.of("/run/vc/sbs");
    public static final String ENV = "KATA_SHIM_SANDBOX_ROOT";

    public static SandboxRoot fromEnvironment() {
        String configured = System.getenv(ENV);
        return new SandboxRoot(configured == null || configured.isEmpty() ? DEFAULT : Path.of(configured));
    }

    /** The sandbox ids (directory names), sorted; none when the root does not exist (yet). */
    public List<String> sandboxes() throws IOException {
        List<String> ids = new ArrayList<>();
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(path, Files::isDirectory)) {
            for (Path dir : dirs) {
                ids.add(dir.getFileName().toString());
            }
        } catch (NoSuchFileException e) {
            return List.of();
        }
        Collections.sort(ids);
        return ids;
    }

    public Path socket(String sandboxId) {
        if (sandboxId.isEmpty() || sandboxId.contains("/") || sandboxId.equals(".") || sandboxId.equals("..")) {
            throw new IllegalArgumentException("not a sandbox id: '" + sandboxId + "'");
        }
        return path.resolve(sandboxId).resolve(ManagementServer.SOCKET_NAME);
    }
}
