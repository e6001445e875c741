package dev.katashim.metrics.expo;

import java.util.List;

/**
 * Writes families as the Prometheus text format 0.0.4 ({@code text/plain; version=0.0.4}): a HELP
 * and a TYPE line per family, then its samples. Names are written as the families carry them: a
 * counter is not renamed (the Java client 1.x would append {@code _total}; upstream's Go client,
 * and so the metrics reference, do not).
 */
public final class TextFormat {
    public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private TextFormat() {
    }

    public static String write(List<MetricFamily> families) {
        StringBuilder out = new StringBuilder(families.size() * 256);
        write(families, out);
        return out.toString();
    }

    public static void write(List<MetricFamily> families, StringBuilder out) {
        for (MetricFamily family : families) {
            if (family.samples().isEmpty()) {
                continue; // a family with nothing to say is left out, as the Go client does
            }
            out.append("# HELP ").append(family.name()).append(' ');
            escapeHelp(family.help(), out);
            out.append('\n');
            out.append("# TYPE ").append(family.name()).append(' ').append(family.type().word()).append('\n');
            for (Sample sample : family.samples()) {
                out.append(sample.name());
                writeLabels(sample.labels(), out);
                out.append(' ');
                writeValue(sample.value(), out);
                if (sample.hasTimestamp()) {
                    out.append(' ').append(sample.timestampMillis());
                }
                out.append('\n');
            }
        }
    }

    static void writeLabels(List<Label> labels, StringBuilder out) {
        if (labels.isEmpty()) {
            return;
        }
        out.append('{');
        for (int i = 0; i < labels.size(); i++) {
            Label label = labels.get(i);
            if (i > 0) {
                out.append(',');
            }
            out.append(label.name()).append("=\"");
            escapeLabelValue(label.value(), out);
            out.append('"');
        }
        out.append('}');
    }

    /** Integral values as integers; others in Java's shortest round-trip form (which Go's ParseFloat reads). */
    static void writeValue(double value, StringBuilder out) {
        if (Double.isNaN(value)) {
            out.append("NaN");
        } else if (value == Double.POSITIVE_INFINITY) {
            out.append("+Inf");
        } else if (value == Double.NEGATIVE_INFINITY) {
            out.append("-Inf");
        } else if (value == Math.rint(value) && Math.abs(value) < 1e15) {
            out.append((long) value);
        } else {
            out.append(value);
        }
    }

    static void escapeHelp(String help, StringBuilder out) {
        for (int i = 0; i < help.length(); i++) {
            char c = help.charAt(i);
            switch (c) {
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                default -> out.append(c);
            }
        }
    }

    static void escapeLabelValue(String value, StringBuilder out) {
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            switch (c) {
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '"' -> out.append("\\\"");
                default -> out.append(c);
            }
        }
    }
}
