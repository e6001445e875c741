package dev.katashim.metrics.expo;

/** One label of a sample: a name ({@code [a-zA-Z_][a-zA-Z0-9_]*}) and any UTF-8 value. */
public record Label(String name, String value) {
    public Label {
        if (!Names.isLabelName(name)) {
            throw new IllegalArgumentException("not a label name: '" + name + "'");
        }
        if (value == null) {
            throw new IllegalArgumentException("label " + name + " has no value");
        }
    }
}
