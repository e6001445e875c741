package dev.katashim.metrics.expo;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Merges the families of several sources (sandboxes) into one family per name, each sample kept
 * with its source's labels: one HELP, one TYPE, all samples. A source whose family has the same
 * name but another type than the one first seen cannot join it: that family of that source is
 * left out (logged), so the merged text stays valid.
 */
public final class FamilyMerger {
    private static final Logger log = LoggerFactory.getLogger(FamilyMerger.class);

    private final Map<String, MetricFamily> first = new LinkedHashMap<>();
    private final Map<String, List<Sample>> samples = new LinkedHashMap<>();
    private int conflicts;

    /** Adds one source's families. */
    public void add(String source, List<MetricFamily> families) {
        for (MetricFamily family : families) {
            MetricFamily known = first.putIfAbsent(family.name(), family);
            if (known != null && known.type() != family.type()) {
                conflicts++;
                log.warn("{}: family {} is a {} there but a {} elsewhere: left out", source, family.name(),
                        family.type().word(), known.type().word());
                continue;
            }
            samples.computeIfAbsent(family.name(), n -> new ArrayList<>()).addAll(family.samples());
        }
    }

    /** How many families were left out for a type conflict. */
    public int conflicts() {
        return conflicts;
    }

    /** The merged families, sorted by name. */
    public List<MetricFamily> families() {
        List<MetricFamily> merged = new ArrayList<>(first.size());
        for (Map.Entry<String, MetricFamily> e : new TreeMap<>(first).entrySet()) {
            MetricFamily f = e.getValue();
            merged.add(new MetricFamily(f.name(), f.type(), f.help(), f.unit(), samples.get(f.name())));
        }
        return merged;
    }
}
