package dev.katashim.metrics.expo;

import java.util.List;

/**
 * Writes families as OpenMetrics 1.0 text. Differences from 0.0.4 that matter here: a counter's
 * family name has no {@code _total} and its sample always has one
 * ({@code kata_hypervisor_scrape_count} → {@code kata_hypervisor_scrape_count_total}), untyped is
 * {@code unknown}, a {@code # UNIT} line is written where the name ends with the unit, HELP
 * escapes quotes too, timestamps are seconds, and the text ends with {@code # EOF}.
 */
public final class OpenMetricsFormat {
    public static final String CONTENT_TYPE = "application/openmetrics-text; version=1.0.0; charset=utf-8";

    private OpenMetricsFormat() {
    }

    public static String write(List<MetricFamily> families) {
        StringBuilder out = new StringBuilder(families.size() * 256);
        for (MetricFamily family : families) {
            if (family.samples().isEmpty()) {
                continue;
            }
            boolean counter = family.type() == MetricType.COUNTER;
            String name = counter && family.name().endsWith("_total")
                    ? family.name().substring(0, family.name().length() - "_total".length()) : family.name();
            out.append("# TYPE ").append(name).append(' ').append(family.type().openMetricsWord()).append('\n');
            if (!family.unit().isEmpty() && name.endsWith("_" + family.unit())) {
                out.append("# UNIT ").append(name).append(' ').append(family.unit()).append('\n');
            }
            out.append("# HELP ").append(name).append(' ');
            escape(family.help(), out);
            out.append('\n');
            for (Sample sample : family.samples()) {
                out.append(counter ? name + "_total" : sample.name());
                List<Label> labels = sample.labels();
                if (!labels.isEmpty()) {
                    out.append('{');
                    for (int i = 0; i < labels.size(); i++) {
                        if (i > 0) {
                            out.append(',');
                        }
                        out.append(labels.get(i).name()).append("=\"");
                        String value = labels.get(i).value();
                        if (family.type() == MetricType.HISTOGRAM && labels.get(i).name().equals("le")) {
                            value = canonicalBound(value);
                        }
                        escape(value, out);
                        out.append('"');
                    }
                    out.append('}');
                }
                out.append(' ');
                TextFormat.writeValue(sample.value(), out);
                if (sample.hasTimestamp()) {
                    out.append(' ').append(java.math.BigDecimal.valueOf(sample.timestampMillis(), 3).toPlainString());
                }
                out.append('\n');
            }
        }
        out.append("# EOF\n");
        return out.toString();
    }

    /** OpenMetrics wants bucket bounds as floats: {@code 1} → {@code 1.0}. */
    private static String canonicalBound(String le) {
        if (le.equals("+Inf") || le.equals("-Inf")) {
            return le;
        }
        try {
            return Double.toString(Double.parseDouble(le));
        } catch (NumberFormatException e) {
            return le;
        }
    }

    private static void escape(String text, StringBuilder out) {
        TextFormat.escapeLabelValue(text, out);
    }
}
