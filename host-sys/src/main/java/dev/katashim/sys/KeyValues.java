package dev.katashim.sys;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/** The "Key: value [kB]" files of /proc: {@code /proc/<pid>/status}, {@code /proc/<pid>/io}, {@code /proc/meminfo}. */
public final class KeyValues {
    private KeyValues() {
    }

    /**
     * The keys whose value is one number, in the file's order; with {@code kilobytesToBytes} a
     * "kB" value is given in bytes. Lines that carry no single number ("State: S (sleeping)",
     * "Uid: 0 0 0 0") are skipped.
     */
    public static Map<String, Long> parse(String text, boolean kilobytesToBytes) {
        Map<String, Long> values = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            int colon = line.indexOf(':');
            if (colon <= 0) {
                continue;
            }
            String[] parts = line.substring(colon + 1).trim().split("\\s+");
            if (parts.length == 0 || parts.length > 2 || parts.length == 2 && !parts[1].equals("kB")) {
                continue;
            }
            try {
                long value = Long.parseLong(parts[0]);
                values.put(line.substring(0, colon).trim(), kilobytesToBytes && parts.length == 2 ? value * 1024 : value);
            } catch (NumberFormatException e) {
                // not a number
            }
        }
        return Collections.unmodifiableMap(values);
    }
}
