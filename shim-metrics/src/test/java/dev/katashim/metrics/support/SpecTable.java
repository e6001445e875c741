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
 * The metrics the specification ({@code shared/spec/kata-metrics-in-runtime-rs.md}) requires, read
 * from the file itself, not retyped: each table row's name, type, unit and labels with their items,
 * then what its notes add: the second {@code kata_hypervisor_seccomp} row is {@code kata_hypervisor_signals},
 * {@code kata_hypervisor_vcpu} carries {@code cpu_id} too, the hypervisor process gets the shim's
 * process families under {@code kata_hypervisor_}, and the histograms' buckets.
 */
public final class SpecTable {
    /** One required metric. {@code labels}: label name → its items (empty: any value); {@code help} null where the spec gives none of its own. */
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

    /** The spec in the project's shared folder beside the checkout (here and in CI). */
    public static Path specFile() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path candidate = dir.resolve("shared/spec/kata-metrics-in-runtime-rs.md");
            if (Files.isRegularFile(candidate)) {
                return candidate;
            }
        }
        throw new AssertionError("shared/spec/kata-metrics-in-runtime-rs.md not found beside the checkout of " + Path.of("").toAbsolutePath());
    }


    public static SpecTable load() throws IOException {
        Path file = specFile();
        List<String> lines = Files.readAllLines(file);
        String notes = String.join("\n", lines.subList(indexOf(lines, "## Notes"), lines.size()));
        Map<String, Metric> metrics = new LinkedHashMap<>();
        for (String line : lines) {
            if (!line.startsWith("|") || !line.contains("`kata_")) {
                continue;
            }
            List<String> cells = cells(line);
            int nameCell = cells.get(0).contains("`kata_") ? 0 : 1; // the shim table has a STATUS column first
            Matcher nm = Pattern.compile("`([a-z_]+)`:\\s*<br>\\s*(.*)").matcher(cells.get(nameCell));
            if (!nm.find()) {
                throw new AssertionError("cannot read the metric name of: " + line);
            }
            String name = nm.group(1);
            String help = nm.group(2).strip();
            String type = switch (cells.get(nameCell + 1).replace("`", "").strip()) {
                case "HISTOGRAM" -> "histogram";
                case "GAUGE", "IntGauge" -> "gauge";
                case "COUNTER" -> "counter";
                default -> throw new AssertionError("unknown type in: " + line);
            };
            String unit = cells.get(nameCell + 2).replace("`", "").strip();
            Map<String, Set<String>> labels = labels(cells.get(nameCell + 3));
            if (metrics.containsKey(name)) {
                // the notes say what a repeated row is really called
                Matcher renamed = Pattern.compile("names the second one `([a-z_]+)`").matcher(notes);
                if (!notes.contains("`" + name + "` twice") || !renamed.find()) {
                    throw new AssertionError(name + " is listed twice and the notes do not say why");
                }
                name = renamed.group(1);
                help = null; // upstream's row repeats the seccomp help text
            }
            metrics.put(name, new Metric(name, type, unit, help, labels));
        }
        // "Upstream dragonball labels `X` with `L` as well as `item`."
        Matcher extra = Pattern.compile("labels `([a-z_]+)` with `([a-z_]+)` as well as").matcher(notes);
        while (extra.find()) {
            Metric m = metrics.get(extra.group(1));
            Map<String, Set<String>> labels = new LinkedHashMap<>();
            labels.put(extra.group(2), Set.of());
            labels.putAll(m.labels());
            metrics.put(m.name(), new Metric(m.name(), m.type(), m.unit(), m.help(), labels));
        }
        // "... also collected for it under `kata_hypervisor_` (threads, fds, proc_status, ...)"
        Matcher same = Pattern.compile("under `(kata_hypervisor_)` \\(([a-z_, ]+)\\)").matcher(notes);
        if (!same.find()) {
            throw new AssertionError("the notes no longer list the hypervisor's process metrics");
        }
        for (String suffix : same.group(2).split(",\\s*")) {
            Metric shim = metrics.get("kata_shim_" + suffix);
            if (shim == null) {
                throw new AssertionError("no kata_shim_" + suffix + " to copy for the hypervisor");
            }
            String name = same.group(1) + suffix;
            metrics.put(name, new Metric(name, shim.type(), shim.unit(), null, shim.labels()));
        }
        Matcher buckets = Pattern.compile("ExponentialBuckets\\((\\d+), (\\d+), (\\d+)\\)").matcher(notes);
        if (!buckets.find()) {
            throw new AssertionError("the notes no longer give the histograms' buckets");
        }
        List<Double> bounds = new ArrayList<>();
        double start = Double.parseDouble(buckets.group(1));
        double factor = Double.parseDouble(buckets.group(2));
        for (int i = 0; i < Integer.parseInt(buckets.group(3)); i++) {
            bounds.add(start * Math.pow(factor, i));
        }
        return new SpecTable(file, Map.copyOf(metrics), List.copyOf(bounds));
    }

    private static int indexOf(List<String> lines, String prefix) {
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).startsWith(prefix)) {
                return i;
            }
        }
        throw new AssertionError("no '" + prefix + "' section in the spec");
    }

    private static List<String> cells(String row) {
        List<String> cells = new ArrayList<>();
        for (String cell : row.substring(1, row.lastIndexOf('|')).split("\\|")) {
            cells.add(cell.strip());
        }
        return cells;
    }

    /**
     * {@code <ul><li>`item` (...)<ul><li>`a`</li>...</ul></li><li>`sandbox_id`</li></ul>}: the
     * outer list's entries are label names, an inner list's entries that label's items.
     */
    static Map<String, Set<String>> labels(String cell) {
        Map<String, Set<String>> labels = new LinkedHashMap<>();
        Matcher token = Pattern.compile("<ul>|</ul>|<li>\\s*`([^`]+)`").matcher(cell);
        int depth = 0;
        String label = null;
        while (token.find()) {
            switch (token.group()) {
                case "<ul>" -> depth++;
                case "</ul>" -> depth--;
                default -> {
                    if (depth == 1) {
                        label = token.group(1);
                        labels.put(label, new LinkedHashSet<>());
                    } else if (depth == 2) {
                        labels.get(label).add(token.group(1));
                    }
                }
            }
        }
        labels.replaceAll((k, v) -> Set.copyOf(v));
        return labels;
    }
}
