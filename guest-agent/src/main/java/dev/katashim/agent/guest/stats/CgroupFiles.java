package dev.katashim.agent.guest.stats;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Reads cgroup control files as the kernel writes them: a number (or {@code max}, no limit), a
 * flat keyed file ({@code key value} per line), or any file as lines of fields (the caller splits
 * nested {@code k=v} pairs and device tables). Numbers are unsigned 64-bit: {@code max} reads as
 * 2^64−1, as runc reports it.
 */
final class CgroupFiles {
    static final long UNLIMITED = -1L; // 18446744073709551615 unsigned

    private CgroupFiles() {
    }

    /** The file's number; {@code max} is {@link #UNLIMITED}. */
    static long number(Path file) throws IOException {
        return parse(file, Files.readString(file).strip());
    }

    /** The file's number, or empty when the file does not exist (a controller or feature this kernel lacks). */
    static Optional<Long> numberIfPresent(Path file) throws IOException {
        try {
            return Optional.of(number(file));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    /** {@code key value} lines, in file order. */
    static Map<String, Long> flatKeyed(Path file) throws IOException {
        Map<String, Long> values = new LinkedHashMap<>();
        for (String line : Files.readAllLines(file)) {
            String[] fields = line.strip().split("\\s+");
            if (fields.length == 2) {
                values.put(fields[0], parse(file, fields[1]));
            }
        }
        return values;
    }

    /** {@code key value} lines, or none when the file does not exist. */
    static Map<String, Long> flatKeyedIfPresent(Path file) throws IOException {
        try {
            return flatKeyed(file);
        } catch (NoSuchFileException e) {
            return Map.of();
        }
    }

    /** The lines split at white space, empty lines left out; none when the file does not exist. */
    static List<String[]> fieldsIfPresent(Path file) throws IOException {
        try {
            return Files.readAllLines(file).stream().map(String::strip).filter(l -> !l.isEmpty()).map(l -> l.split("\\s+")).toList();
        } catch (NoSuchFileException e) {
            return List.of();
        }
    }

    static long parse(Path file, String value) throws IOException {
        if (value.equals("max")) {
            return UNLIMITED;
        }
        try {
            return Long.parseUnsignedLong(value);
        } catch (NumberFormatException e) {
            throw new IOException("cgroup file " + file + " holds " + quote(value) + ", not an unsigned number", e);
        }
    }

    private static String quote(String value) {
        return "\"" + (value.length() > 40 ? value.substring(0, 40) + "…" : value) + "\"";
    }
}
