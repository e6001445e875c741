package dev.katashim.metrics.expo;

import java.util.List;

/** The two formats /metrics speaks, chosen from the request's Accept header as Prometheus asks. */
public enum ExpositionFormat {
    TEXT_0_0_4(TextFormat.CONTENT_TYPE),
    OPENMETRICS_1_0_0(OpenMetricsFormat.CONTENT_TYPE);

    private final String contentType;

    ExpositionFormat(String contentType) {
        this.contentType = contentType;
    }

    public String contentType() {
        return contentType;
    }

    public String write(List<MetricFamily> families) {
        return this == OPENMETRICS_1_0_0 ? OpenMetricsFormat.write(families) : TextFormat.write(families);
    }

    /**
     * OpenMetrics when the Accept header asks for {@code application/openmetrics-text} (version
     * 1.0.0, 0.0.1 or unversioned) at least as much as for {@code text/plain}; the text format
     * 0.0.4 otherwise, and for no or a malformed header.
     */
    public static ExpositionFormat negotiate(String accept) {
        if (accept == null || accept.isBlank()) {
            return TEXT_0_0_4;
        }
        double openMetrics = -1;
        double text = -1;
        for (String range : accept.split(",")) {
            String[] parts = range.split(";", -1); // -1: ";;;" is four empty parts, not none
            String type = parts[0].strip().toLowerCase(java.util.Locale.ROOT);
            double q = 1.0;
            String version = null;
            for (int i = 1; i < parts.length; i++) {
                String[] kv = parts[i].strip().split("=", 2);
                if (kv.length != 2) {
                    continue;
                }
                String key = kv[0].strip().toLowerCase(java.util.Locale.ROOT);
                String value = kv[1].strip();
                if (key.equals("q")) {
                    try {
                        q = Double.parseDouble(value);
                    } catch (NumberFormatException e) {
                        q = 0;
                    }
                } else if (key.equals("version")) {
                    version = value;
                }
            }
            if (type.equals("application/openmetrics-text")
                    && (version == null || version.equals("1.0.0") || version.equals("0.0.1"))) {
                openMetrics = Math.max(openMetrics, q);
            } else if (type.equals("text/plain") || type.equals("*/*") || type.equals("text/*")) {
                text = Math.max(text, q);
            }
        }
        return openMetrics > 0 && openMetrics >= text ? OPENMETRICS_1_0_0 : TEXT_0_0_4;
    }
}
