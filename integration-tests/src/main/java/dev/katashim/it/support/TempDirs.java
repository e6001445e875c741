package dev.katashim.it.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.List;

/** Short-named temp dirs (unix socket paths inside them must stay under ~107 bytes) and their safe removal. */
public final class TempDirs {

    private static final Path SHORT_ROOT = Path.of("/tmp");
    private static final java.security.SecureRandom RANDOM = new java.security.SecureRandom();

    private TempDirs() {
    }

    /**
     * A fresh directory such as /tmp/kt3f9a01c2; the JDK's default tmpdir may be long or unusual, and
     * its temp names carry up to 20 digits: a CRI sandbox's socket below {@code <dir>/sbs/<64-hex id>/}
     * would pass the 107 bytes a unix socket path may have.
     */
    public static Path createShort(String prefix) {
        for (int attempt = 0; ; attempt++) {
            Path dir = SHORT_ROOT.resolve(prefix + java.util.HexFormat.of().toHexDigits(RANDOM.nextInt()));
            try {
                return Files.createDirectory(dir, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                        java.nio.file.attribute.PosixFilePermissions.fromString("rwx------")));
            } catch (java.nio.file.FileAlreadyExistsException taken) {
                if (attempt >= 100) {
                    throw new UncheckedIOException(taken);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /**
     * Deletes a tree without following symlinks. Refuses while anything is mounted below it:
     * walking into a mount would delete the mounted filesystem's files, not ours.
     */
    public static void deleteRecursively(Path dir) {
        List<Path> mounted = Mounts.below(dir);
        if (!mounted.isEmpty()) {
            throw new IllegalStateException("not deleting " + dir + ": still mounted below it: " + mounted);
        }
        if (!Files.exists(dir)) {
            return;
        }
        try {
            Files.walkFileTree(dir, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    Files.deleteIfExists(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
                    if (e instanceof NoSuchFileException) {
                        return FileVisitResult.CONTINUE;
                    }
                    throw e;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
                    if (e != null && !(e instanceof NoSuchFileException)) {
                        throw e;
                    }
                    Files.deleteIfExists(d);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + dir, e);
        }
    }
}
