package dev.katashim.shim.sandbox;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Guest console logs kept after their sandbox directory is removed: of a sandbox that failed to
 * boot or that died on its own, for whoever reads the error. In {@code KATA_SHIM_KEPT_LOGS}, else
 * {@link #DEFAULT_DIR} (under /run: emptied at boot); only the newest {@link #KEEP} are kept.
 */
public record KeptConsoleLogs(Path dir) {
    private static final Logger log = LoggerFactory.getLogger(KeptConsoleLogs.class);
    public static final Path DEFAULT_DIR = Path.of("/run/kata-shim-java/console-logs");
    static final int KEEP = 20;
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss.SSS");

    public static KeptConsoleLogs fromEnvironment() {
        String configured = System.getenv("KATA_SHIM_KEPT_LOGS");
        return new KeptConsoleLogs(configured == null || configured.isBlank() ? DEFAULT_DIR : Path.of(configured));
    }

    /** A copy of {@code console} named after the sandbox and now, if there is a console log to copy. */
    Optional<Path> keep(String sandboxId, Path console) {
        if (!Files.isRegularFile(console)) {
            return Optional.empty();
        }
        Path copy = dir.resolve(sandboxId + "-" + STAMP.format(LocalDateTime.now(ZoneOffset.UTC)) + "-console.log");
        try {
            Files.createDirectories(dir);
            // root's alone: a guest's console carries what its agent logged about the pod's containers
            Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
            Files.copy(console, copy, StandardCopyOption.REPLACE_EXISTING);
            prune();
            return Optional.of(copy);
        } catch (IOException e) {
            log.warn("sandbox {}: cannot keep the console log {} in {}: {}", sandboxId, console, dir, e.toString());
            return Optional.empty();
        }
    }

    /** Only the newest {@link #KEEP}: a node restarting failed pods all day must not fill /run. */
    private void prune() throws IOException {
        List<Path> kept;
        try (Stream<Path> files = Files.list(dir)) {
            kept = files.filter(p -> p.getFileName().toString().endsWith("-console.log"))
                    .sorted(Comparator.comparing(KeptConsoleLogs::modified).reversed()).toList();
        }
        for (Path old : kept.subList(Math.min(KEEP, kept.size()), kept.size())) {
            Files.deleteIfExists(old);
        }
    }

    private static long modified(Path file) {
        try {
            return Files.getLastModifiedTime(file).toMillis();
        } catch (IOException e) {
            return 0;
        }
    }
}
