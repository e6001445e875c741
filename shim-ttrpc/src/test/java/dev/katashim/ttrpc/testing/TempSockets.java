package dev.katashim.ttrpc.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** A short-pathed temp directory for sockets (unix socket paths are limited to ~107 bytes). */
public final class TempSockets implements AutoCloseable {
    private final Path dir;

    public TempSockets() {
        try {
            dir = Files.createTempDirectory(Path.of("/tmp"), "kt");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public Path dir() {
        return dir;
    }

    public Path path(String name) {
        return dir.resolve(name);
    }

    @Override
    public void close() throws IOException {
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
