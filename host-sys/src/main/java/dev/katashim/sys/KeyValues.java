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
            if (parts.length > 2 || parts.length == 2 && !parts[1].equals("kB") || !isCount(parts[0])) {
                continue;
            }
            try {
                long value = Long.parseLong(parts[0]);
                values.put(line.substring(0, colon).trim(), kilobytesToBytes && parts.length == 2 ? value * 1024 : value);
            } catch (NumberFormatException e) {
                // digits beyond a long's range
            }
        }
        return Collections.unmodifiableMap(values);
    }

    /**
     * Digits, after a minus sign at most (meminfo's Committed_AS can go negative). Tested before
     * parsing because a status file has a dozen values that are not counts ("0-1", "1/96363",
     * "0xffffffffffffffff", a node mask, nothing) and the shim reads one every few seconds: an
     * exception for each would be control flow by exception.
     */
    private static boolean isCount(String value) {
        int first = value.startsWith("-") ? 1 : 0;
        if (value.length() == first) {
            return false;
        }
        for (int i = first; i < value.length(); i++) {
            if (value.charAt(i) < '0' || value.charAt(i) > '9') {
                return false;
            }
        }
        return true;
    }
}
