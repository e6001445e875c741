package dev.katashim.metrics.expo;

import java.util.ArrayList;
import java.util.List;

/**
 * A metric family as the text format 0.0.4 writes it: one name, one type, one help text, and its
 * samples. The name is the one a 0.0.4 TYPE line carries; for a counter that is also its sample's
 * name, with or without {@code _total} (so {@code kata_hypervisor_scrape_count} stays what the
 * metrics reference calls it). {@code unit} is optional and only written to OpenMetrics.
 */
public record MetricFamily(String name, MetricType type, String help, String unit, List<Sample> samples) {

    public MetricFamily {
        if (!Names.isMetricName(name)) {
            throw new IllegalArgumentException("not a metric name: '" + name + "'");
        }
        if (type == null) {
            throw new IllegalArgumentException(name + ": no type");
        }
        help = help == null ? "" : help;
        unit = unit == null ? "" : unit;
        samples = List.copyOf(samples);
        for (Sample sample : samples) {
            if (!belongs(name, type, sample.name())) {
                throw new IllegalArgumentException("sample " + sample.name() + " does not belong to " + type.word() + " " + name);
            }
        }
    }

    public MetricFamily(String name, MetricType type, String help, List<Sample> samples) {
        this(name, type, help, "", samples);
    }

    /** Whether a sample called {@code sample} is part of a family {@code family} of {@code type}. */
    public static boolean belongs(String family, MetricType type, String sample) {
        if (sample.equals(family)) {
            return type != MetricType.HISTOGRAM;
        }
        return switch (type) {
            case HISTOGRAM -> sample.equals(family + "_bucket") || sample.equals(family + "_sum") || sample.equals(family + "_count");
            case SUMMARY -> sample.equals(family + "_sum") || sample.equals(family + "_count");
            default -> false;
        };
    }

    /** Every sample with label {@code labelName=labelValue} set (replaced where present). */
    public MetricFamily withLabel(String labelName, String labelValue) {
        List<Sample> relabelled = new ArrayList<>(samples.size());
        for (Sample sample : samples) {
            relabelled.add(sample.withLabel(labelName, labelValue));
        }
        return new MetricFamily(name, type, help, unit, relabelled);
    }

    /** The family under another name, each sample's name changed alike ({@code x_bucket} → {@code y_bucket}). */
    public MetricFamily renamed(String newName) {
        List<Sample> renamed = new ArrayList<>(samples.size());
        for (Sample sample : samples) {
            renamed.add(sample.renamed(newName + sample.name().substring(name.length())));
        }
        return new MetricFamily(newName, type, help, unit, renamed);
    }

    /** This family with {@code more} samples appended (same name and type). */
    public MetricFamily plus(List<Sample> more) {
        List<Sample> all = new ArrayList<>(samples.size() + more.size());
        all.addAll(samples);
        all.addAll(more);
        return new MetricFamily(name, type, help, unit, all);
    }
}
