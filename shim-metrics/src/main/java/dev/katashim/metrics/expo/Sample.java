package dev.katashim.metrics.expo;

import java.util.ArrayList;
import java.util.List;

/**
 * One line of a family: the full sample name ({@code x}, {@code x_bucket}, {@code x_sum}, ...), its
 * labels in order (no name twice), its value and, rarely, a timestamp in milliseconds.
 */
public record Sample(String name, List<Label> labels, double value, long timestampMillis) {
    /** {@link #timestampMillis()} of a sample without one. */
    public static final long NO_TIMESTAMP = Long.MIN_VALUE;

    public Sample {
        if (!Names.isMetricName(name)) {
            throw new IllegalArgumentException("not a metric name: '" + name + "'");
        }
        labels = List.copyOf(labels);
        for (int i = 0; i < labels.size(); i++) {
            for (int j = 0; j < i; j++) {
                if (labels.get(i).name().equals(labels.get(j).name())) {
                    throw new IllegalArgumentException(name + ": label " + labels.get(i).name() + " given twice");
                }
            }
        }
    }

    public Sample(String name, List<Label> labels, double value) {
        this(name, labels, value, NO_TIMESTAMP);
    }

    public static Sample of(String name, double value, String... labelPairs) {
        if (labelPairs.length % 2 != 0) {
            throw new IllegalArgumentException("label names and values come in pairs");
        }
        List<Label> labels = new ArrayList<>(labelPairs.length / 2);
        for (int i = 0; i < labelPairs.length; i += 2) {
            labels.add(new Label(labelPairs[i], labelPairs[i + 1]));
        }
        return new Sample(name, labels, value);
    }

    /** The value of label {@code name}, or null. */
    public String label(String name) {
        for (Label label : labels) {
            if (label.name().equals(name)) {
                return label.value();
            }
        }
        return null;
    }

    /** This sample with label {@code labelName=labelValue}: replaced where the label exists, appended otherwise. */
    public Sample withLabel(String labelName, String labelValue) {
        List<Label> copy = new ArrayList<>(labels.size() + 1);
        boolean replaced = false;
        for (Label label : labels) {
            if (label.name().equals(labelName)) {
                copy.add(new Label(labelName, labelValue));
                replaced = true;
            } else {
                copy.add(label);
            }
        }
        if (!replaced) {
            copy.add(new Label(labelName, labelValue));
        }
        return new Sample(name, copy, value, timestampMillis);
    }

    /** The same sample under another name (a family renamed). */
    public Sample renamed(String newName) {
        return new Sample(newName, labels, value, timestampMillis);
    }

    public boolean hasTimestamp() {
        return timestampMillis != NO_TIMESTAMP;
    }
}
