package dev.katashim.it.support;

import dev.katashim.sys.MountTable;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** Mount points as this process sees them (/proc/self/mountinfo). */
public final class Mounts {

    private Mounts() {
    }

    /** Mount points strictly below {@code dir}, deepest first, so they can be unmounted in that order. */
    public static List<Path> below(Path dir) {
        Path base = dir.toAbsolutePath().normalize();
        try {
            return MountTable.ofThisProcess().pointsAtOrBelow(base).stream()
                    .filter(point -> !point.equals(base))
                    .distinct()
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Lazily unmounts everything below {@code dir}; returns what is still mounted afterwards. */
    public static List<Path> unmountAllBelow(Path dir) {
        // Stacked mounts show up once per layer; a few passes peel them all.
        for (int pass = 0; pass < 5; pass++) {
            List<Path> mounted = below(dir);
            if (mounted.isEmpty()) {
                break;
            }
            for (Path point : mounted) {
                ExternalCommand.run(List.of("umount", "-l", point.toString()), Duration.ofSeconds(10));
            }
        }
        return below(dir);
    }
}
