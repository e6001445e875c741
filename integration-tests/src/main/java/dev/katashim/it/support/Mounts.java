package dev.katashim.it.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Mount points as this process sees them (/proc/self/mountinfo). */
public final class Mounts {

    private static final Pattern OCTAL_ESCAPE = Pattern.compile("\\\\([0-7]{3})");

    private Mounts() {
    }

    /** Mount points strictly below {@code dir}, deepest first, so they can be unmounted in that order. */
    public static List<Path> below(Path dir) {
        Path base = dir.toAbsolutePath().normalize();
        try {
            return Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
                    .map(Mounts::mountPoint)
                    .filter(point -> point.startsWith(base) && !point.equals(base))
                    .distinct()
                    .sorted(Comparator.comparingInt(Path::getNameCount).reversed())
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

    /** The fifth field of a mountinfo line, with the kernel's octal escapes (\040 for a space) undone. */
    private static Path mountPoint(String mountinfoLine) {
        String escaped = mountinfoLine.split(" ")[4];
        Matcher m = OCTAL_ESCAPE.matcher(escaped);
        StringBuilder plain = new StringBuilder();
        while (m.find()) {
            m.appendReplacement(plain, Matcher.quoteReplacement(
                    String.valueOf((char) Integer.parseInt(m.group(1), 8))));
        }
        m.appendTail(plain);
        return Path.of(plain.toString());
    }
}
