package dev.katashim.metrics.expo;

/** The metric types of the Prometheus text format, by the word its TYPE line uses. */
public enum MetricType {
    COUNTER("counter"), GAUGE("gauge"), HISTOGRAM("histogram"), SUMMARY("summary"), UNTYPED("untyped");

    private final String word;

    MetricType(String word) {
        this.word = word;
    }

    /** The word of a 0.0.4 TYPE line. */
    public String word() {
        return word;
    }

    /** The word of an OpenMetrics TYPE line ({@code untyped} is {@code unknown} there). */
    public String openMetricsWord() {
        return this == UNTYPED ? "unknown" : word;
    }

    /** The type a 0.0.4 TYPE line names, or null for an unknown word. */
    public static MetricType ofWord(String word) {
        for (MetricType type : values()) {
            if (type.word.equals(word)) {
                return type;
            }
        }
        return null;
    }
}
