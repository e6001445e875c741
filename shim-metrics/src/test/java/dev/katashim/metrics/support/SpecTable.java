package dev.katashim.metrics.support;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The metrics every sandbox must serve, read from the metrics reference ({@code docs/metrics.md})
 * itself, not retyped: the {@code upstream} rows of its shim, hypervisor and pod overhead tables,
 * each with its name, type, unit, help and labels with their items, plus {@code sandbox_id}, which
 * the reference says the monitor adds to every sample, and the histograms' bucket bounds.
 *
 * <p>Every table row of the file is read strictly (the agent's and the guest's too): a row that
 * does not follow the format the reference describes fails the test instead of being skipped.
 */
public final class SpecTable {
    /** Where the reference is, from the repository root. */
    public static final String DOC = "docs/metrics.md";

    private static final String HEADER = "| Family | Type | Unit | Labels | Origin | Help |";
    private static final String SEPARATOR = "|---|---|---|---|---|---|";
    private static final Set<String> GROUPS = Set.of("Shim", "Hypervisor", "Pod overhead", "Agent", "Guest", "Containers");
    /** The groups whose {@code upstream} rows every sandbox must serve. */
    private static final Set<String> REQUIRED_GROUPS = Set.of("Shim", "Hypervisor", "Pod overhead");
    private static final Pattern CODE = Pattern.compile("`([^`]+)`");
    private static final Pattern NAME = Pattern.compile("`([a-z][a-z0-9_]*)`");
    private static final Pattern LABEL = Pattern.compile("`([a-z][a-z_]*)`(?:: (.+))?");
    private static final Pattern SANDBOX_ID = Pattern.compile("add\\s+`sandbox_id`\\s+to\\s+every\\s+sample");
    private static final Pattern BUCKETS = Pattern.compile("upper\\s+bounds\\s+`([0-9, ]+)`");

    /** One required metric. {@code labels}: label name → its items (empty: any value). */
    public record Metric(String name, String type, String unit, String help, Map<String, Set<String>> labels) {
        /** The labels the shim's socket serves: all but {@code sandbox_id}, which the monitor adds. */
        public Map<String, Set<String>> socketLabels() {
            Map<String, Set<String>> copy = new LinkedHashMap<>(labels);
            copy.remove("sandbox_id");
            return copy;
        }
    }

    public final Map<String, Metric> metrics;
    public final List<Double> histogramBuckets;
    public final Path file;

    private SpecTable(Path file, Map<String, Metric> metrics, List<Double> buckets) {
        this.file = file;
        this.metrics = metrics;
        this.histogramBuckets = buckets;
    }

    /**
     * {@code docs/metrics.md} of this checkout: looked for in the working directory and its parents
     * up to the repository root (the folder holding {@code mvnw}), never beyond it.
     */
    public static Path specFile() {
        return specFile(Path.of("").toAbsolutePath());
    }

    static Path specFile(Path start) {
        for (Path dir = start; dir != null; dir = dir.getParent()) {
            Path candidate = dir.resolve(DOC);
            if (Files.isRegularFile(candidate)) {
                return candidate;
            }
            if (Files.isRegularFile(dir.resolve("mvnw"))) {
                break;
            }
        }
        throw new AssertionError(DOC + " not found in the repository holding " + start);
    }

    public static SpecTable load() throws IOException {
        return load(specFile());
    }

    static SpecTable load(Path file) throws IOException {
        List<String> lines = Files.readAllLines(file);
        String text = String.join("\n", lines);
        Map<String, Metric> metrics = new LinkedHashMap<>();
        Set<String> families = new LinkedHashSet<>();
        Set<String> groupsSeen = new LinkedHashSet<>();
        String section = null;
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.startsWith("## ")) {
                section = line.substring(3).strip();
                continue;
            }
            if (!line.startsWith("|")) {
                continue;
            }
            String where = file.getFileName() + ":" + (i + 1) + ": ";
            if (!line.equals(HEADER)) {
                throw new AssertionError(where + "a table must start with " + HEADER);
            }
            if (!GROUPS.contains(section)) {
                throw new AssertionError(where + "a table under '" + section + "', not one of " + GROUPS);
            }
            if (!groupsSeen.add(section)) {
                throw new AssertionError(where + "a second table under '" + section + "'");
            }
            if (i + 1 >= lines.size() || !lines.get(i + 1).equals(SEPARATOR)) {
                throw new AssertionError(where + "the header must be followed by " + SEPARATOR);
            }
            int row = i + 2;
            for (; row < lines.size() && lines.get(row).startsWith("|"); row++) {
                Row r = row(file.getFileName() + ":" + (row + 1) + ": ", lines.get(row));
                if (!families.add(r.metric.name())) {
                    throw new AssertionError(file.getFileName() + ":" + (row + 1) + ": " + r.metric.name() + " is listed twice");
                }
                if (REQUIRED_GROUPS.contains(section) && r.origin.equals("upstream")) {
                    metrics.put(r.metric.name(), r.metric);
                }
            }
            if (row == i + 2) {
                throw new AssertionError(where + "a table without rows");
            }
            i = row - 1;
        }
        if (!groupsSeen.equals(GROUPS)) {
            throw new AssertionError(file + " has tables for " + groupsSeen + ", not for every one of " + GROUPS);
        }
        // "... add `sandbox_id` to every sample they pass on": what Prometheus stores has it too
        if (!SANDBOX_ID.matcher(text).find()) {
            throw new AssertionError(file + " no longer says who adds sandbox_id");
        }
        metrics.replaceAll((name, m) -> {
            Map<String, Set<String>> labels = new LinkedHashMap<>(m.labels());
            labels.put("sandbox_id", Set.of());
            return new Metric(m.name(), m.type(), m.unit(), m.help(), Map.copyOf(labels));
        });
        Matcher buckets = BUCKETS.matcher(text);
        if (!buckets.find()) {
            throw new AssertionError(file + " no longer gives the histograms' bucket bounds");
        }
        List<Double> bounds = new ArrayList<>();
        for (String bound : buckets.group(1).split(",\\s*")) {
            bounds.add(Double.parseDouble(bound.strip()));
        }
        return new SpecTable(file, Map.copyOf(metrics), List.copyOf(bounds));
    }

    private record Row(Metric metric, String origin) {
    }

    /** {@code | `name` | type | unit | labels | origin | `help` |}, every cell checked. */
    private static Row row(String where, String line) {
        if (!line.endsWith("|")) {
            throw new AssertionError(where + "a row must end with |: " + line);
        }
        List<String> cells = new ArrayList<>();
        for (String cell : line.substring(1, line.length() - 1).split("\\|", -1)) {
            cells.add(cell.strip());
        }
        if (cells.size() != 6) {
            throw new AssertionError(where + "a row has 6 cells, this one " + cells.size() + ": " + line);
        }
        String name = whole(where, NAME, cells.get(0), "family name");
        String type = cells.get(1);
        if (!Set.of("counter", "gauge", "histogram").contains(type)) {
            throw new AssertionError(where + "unknown type '" + type + "' of " + name);
        }
        String unit = cells.get(2);
        if (!unit.matches("[a-z]*")) {
            throw new AssertionError(where + "unit '" + unit + "' of " + name);
        }
        Map<String, Set<String>> labels = labels(where + name + ": ", cells.get(3));
        String origin = cells.get(4);
        if (!origin.equals("upstream") && !origin.equals("ours")) {
            throw new AssertionError(where + "origin of " + name + " is upstream or ours, not '" + origin + "'");
        }
        String help = whole(where, CODE, cells.get(5), "help of " + name);
        return new Row(new Metric(name, type, unit, help, labels), origin);
    }

    /**
     * {@code `interface`; `item`: `a`, `b`}: labels separated by {@code ; }, each optionally
     * followed by {@code : } and its items. A label without items takes any value.
     */
    static Map<String, Set<String>> labels(String where, String cell) {
        Map<String, Set<String>> labels = new LinkedHashMap<>();
        if (cell.isEmpty()) {
            return labels;
        }
        for (String entry : cell.split("; ", -1)) {
            Matcher m = LABEL.matcher(entry);
            if (!m.matches()) {
                throw new AssertionError(where + "cannot read the label '" + entry + "'");
            }
            Set<String> items = new LinkedHashSet<>();
            if (m.group(2) != null) {
                for (String item : m.group(2).split(", ", -1)) {
                    if (!items.add(whole(where, CODE, item, "item of " + m.group(1)))) {
                        throw new AssertionError(where + "item " + item + " listed twice");
                    }
                }
            }
            if (labels.put(m.group(1), Set.copyOf(items)) != null) {
                throw new AssertionError(where + "label " + m.group(1) + " listed twice");
            }
        }
        return labels;
    }

    /** The text of {@code cell}, which must be exactly one code span matching {@code pattern}. */
    private static String whole(String where, Pattern pattern, String cell, String what) {
        Matcher m = pattern.matcher(cell);
        if (!m.matches()) {
            throw new AssertionError(where + "cannot read the " + what + " in '" + cell + "'");
        }
        return m.group(1);
    }
}
