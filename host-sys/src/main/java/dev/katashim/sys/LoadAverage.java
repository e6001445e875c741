package dev.katashim.sys;

import java.util.Optional;

/** {@code /proc/loadavg}: the 1, 5 and 15 minute load, and the runnable and total scheduling entities. */
public record LoadAverage(double load1, double load5, double load15, long runnable, long total) {

    /** Parses "0.20 0.18 0.12 1/80 11206"; empty when the text has not that shape. */
    public static Optional<LoadAverage> parse(String text) {
        String[] parts = text.trim().split("\\s+");
        if (parts.length < 4) {
            return Optional.empty();
        }
        String[] tasks = parts[3].split("/");
        try {
            return Optional.of(new LoadAverage(Double.parseDouble(parts[0]), Double.parseDouble(parts[1]),
                    Double.parseDouble(parts[2]), Long.parseLong(tasks[0]), Long.parseLong(tasks[1])));
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }
}
