package dev.katashim.metrics.support;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A strict reader of the Prometheus text format 0.0.4 and of OpenMetrics 1.0 text, written apart
 * from the module's own parser so that each checks the other. It throws on the first thing wrong:
 * every family must have exactly one HELP and one TYPE line, before its samples, and its lines
 * together; names and label names well formed, no label twice in a sample, no series twice;
 * values numbers; histogram buckets cumulative, ending with {@code +Inf}, {@code _count} equal to
 * the {@code +Inf} bucket, {@code _sum} present. OpenMetrics also: counters' samples end in
 * {@code _total} (the family name does not), {@code # UNIT} is a suffix of the name, {@code # EOF} last.
 */
public final class StrictPrometheusText {
    private static final Pattern NAME = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
    private static final Pattern LABEL_NAME = Pattern.compile("[a-zA-Z_][a-zA-Z0-9_]*");
    private static final Pattern NUMBER = Pattern.compile("[+-]?(\\d+\\.?\\d*([eE][+-]?\\d+)?|\\.\\d+([eE][+-]?\\d+)?)|[+-]Inf|NaN");
    private static final Set<String> TYPES = Set.of("counter", "gauge", "histogram", "summary", "untyped");
    private static final Set<String> OM_TYPES = Set.of("counter", "gauge", "histogram", "summary", "unknown", "gaugehistogram", "stateset", "info");

    public record Sample(String name, Map<String, String> labels, double value) {
    }

    public record Family(String name, String type, String help, String unit, List<Sample> samples) {
        /** The values of {@code label} over the samples, in order (null where absent). */
        public List<String> labelValues(String label) {
            return samples.stream().map(s -> s.labels().get(label)).toList();
        }

        /** The one sample whose labels include all of {@code pairs}. */
        public Sample sample(String... pairs) {
            List<Sample> matching = samples.stream().filter(s -> {
                for (int i = 0; i < pairs.length; i += 2) {
                    if (!pairs[i + 1].equals(s.labels().get(pairs[i]))) {
                        return false;
                    }
                }
                return true;
            }).toList();
            if (matching.size() != 1) {
                throw new AssertionError(name + ": " + matching.size() + " samples with " + List.of(pairs));
            }
            return matching.getFirst();
        }

        public double value(String... pairs) {
            return sample(pairs).value();
        }
    }

    private StrictPrometheusText() {
    }

    public static Map<String, Family> parse(String text) {
        return read(text, false);
    }

    public static Map<String, Family> parseOpenMetrics(String text) {
        return read(text, true);
    }

    private static Map<String, Family> read(String text, boolean om) {
        Map<String, Family> families = new LinkedHashMap<>();
        Map<String, String> help = new HashMap<>();
        Map<String, String> unit = new HashMap<>();
        Set<String> closed = new HashSet<>();
        Set<String> series = new HashSet<>();
        String open = null;
        String[] lines = text.split("\n", -1);
        require(text.endsWith("\n") || text.isEmpty(), "text does not end with a newline", "end");
        boolean eof = false;
        for (int n = 0; n < lines.length - 1; n++) {
            String line = lines[n];
            String where = "line " + (n + 1) + ": " + (line.length() > 200 ? line.substring(0, 200) + "..." : line);
            require(!eof, "text after # EOF", where);
            if (om && line.equals("# EOF")) {
                eof = true;
                continue;
            }
            require(!line.isEmpty() || !om, "empty line", where);
            if (line.isEmpty()) {
                continue;
            }
            if (line.startsWith("#")) {
                String[] parts = line.split(" ", 4);
                require(parts.length >= 3 && parts[0].equals("#"), "malformed comment line", where);
                String kind = parts[1];
                String name = parts[2];
                require(NAME.matcher(name).matches(), "bad metric name", where);
                if (!name.equals(open)) {
                    require(!closed.contains(name) && !families.containsKey(name), "family's lines not together", where);
                    if (open != null) {
                        closed.add(open);
                    }
                    open = name;
                }
                require(families.get(name) == null || families.get(name).samples().isEmpty(), kind + " after samples", where);
                switch (kind) {
                    case "HELP" -> require(help.put(name, parts.length > 3 ? parts[3] : "") == null, "second HELP", where);
                    case "TYPE" -> {
                        require(parts.length == 4 && (om ? OM_TYPES : TYPES).contains(parts[3]), "bad TYPE line", where);
                        require(!families.containsKey(name), "second TYPE", where);
                        families.put(name, new Family(name, parts[3], null, null, new ArrayList<>()));
                    }
                    case "UNIT" -> {
                        require(om, "UNIT outside OpenMetrics", where);
                        require(parts.length == 4 && name.endsWith("_" + parts[3]), "UNIT not a suffix of the name", where);
                        require(unit.put(name, parts[3]) == null, "second UNIT", where);
                    }
                    default -> require(!om, "unknown comment in OpenMetrics", where);
                }
                continue;
            }
            Sample sample = sample(line, where);
            require(open != null && families.containsKey(open), "sample without a TYPE line before it", where);
            Family family = families.get(open);
            require(belongs(sample.name(), family, om), "sample " + sample.name() + " outside its family " + open, where);
            require(help.containsKey(open), "family " + open + " has no HELP before its samples", where);
            require(series.add(sample.name() + new TreeMap<>(sample.labels())), "duplicate series", where);
            family.samples().add(sample);
        }
        require(!om || eof, "no # EOF at the end", "end");
        Map<String, Family> result = new LinkedHashMap<>();
        for (Family f : families.values()) {
            require(help.containsKey(f.name()), "family without HELP", f.name());
            Family full = new Family(f.name(), f.type(), help.get(f.name()), unit.get(f.name()), List.copyOf(f.samples()));
            if (f.type().equals("histogram")) {
                checkHistogram(full);
            }
            result.put(f.name(), full);
        }
        return result;
    }

    private static boolean belongs(String sample, Family family, boolean om) {
        String n = family.name();
        return switch (family.type()) {
            case "histogram" -> sample.equals(n + "_bucket") || sample.equals(n + "_sum") || sample.equals(n + "_count")
                    || om && sample.equals(n + "_created");
            case "summary" -> sample.equals(n) || sample.equals(n + "_sum") || sample.equals(n + "_count")
                    || om && sample.equals(n + "_created");
            case "counter" -> om ? sample.equals(n + "_total") || sample.equals(n + "_created") : sample.equals(n);
            default -> sample.equals(n);
        };
    }

    private static void checkHistogram(Family f) {
        Map<String, TreeMap<Double, Double>> buckets = new HashMap<>();
        Map<String, Double> counts = new HashMap<>();
        Set<String> sums = new HashSet<>();
        for (Sample s : f.samples()) {
            Map<String, String> rest = new TreeMap<>(s.labels());
            String le = rest.remove("le");
            String key = rest.toString();
            if (s.name().endsWith("_bucket")) {
                require(le != null, "bucket without le", f.name());
                double bound = le.equals("+Inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(le);
                require(buckets.computeIfAbsent(key, k -> new TreeMap<>()).put(bound, s.value()) == null, "bucket twice", f.name() + key);
            } else {
                require(le == null, "le outside a bucket", f.name());
                if (s.name().endsWith("_count")) {
                    counts.put(key, s.value());
                } else if (s.name().endsWith("_sum")) {
                    sums.add(key);
                }
            }
        }
        Set<String> keys = new HashSet<>(buckets.keySet());
        keys.addAll(counts.keySet());
        keys.addAll(sums);
        for (String key : keys) {
            TreeMap<Double, Double> b = buckets.get(key);
            require(b != null && b.lastKey() == Double.POSITIVE_INFINITY, "no +Inf bucket", f.name() + key);
            double previous = 0;
            for (double v : b.values()) {
                require(v >= previous, "buckets not cumulative", f.name() + key);
                previous = v;
            }
            require(counts.containsKey(key) && counts.get(key) == b.lastEntry().getValue().doubleValue(), "_count differs from +Inf bucket", f.name() + key);
            require(sums.contains(key), "no _sum", f.name() + key);
        }
    }

    private static final Pattern SAMPLE = Pattern.compile("([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{(.*)})? ([^ ]+)( -?[0-9.]+)?");

    private static Sample sample(String line, String where) {
        Matcher m = SAMPLE.matcher(line);
        require(m.matches(), "malformed sample line", where);
        Map<String, String> labels = new LinkedHashMap<>();
        if (m.group(3) != null) {
            String body = m.group(3);
            int i = 0;
            while (i < body.length()) {
                int eq = body.indexOf('=', i);
                require(eq > i, "label without =", where);
                String label = body.substring(i, eq);
                require(LABEL_NAME.matcher(label).matches(), "bad label name '" + label + "'", where);
                require(eq + 1 < body.length() && body.charAt(eq + 1) == '"', "label value not quoted", where);
                StringBuilder value = new StringBuilder();
                int j = eq + 2;
                while (true) {
                    require(j < body.length(), "unterminated label value", where);
                    char c = body.charAt(j);
                    if (c == '"') {
                        break;
                    }
                    if (c == '\\') {
                        require(j + 1 < body.length(), "dangling escape", where);
                        char e = body.charAt(++j);
                        require(e == '\\' || e == '"' || e == 'n', "bad escape", where);
                        value.append(e == 'n' ? '\n' : e);
                    } else {
                        value.append(c);
                    }
                    j++;
                }
                require(labels.put(label, value.toString()) == null, "label " + label + " twice", where);
                i = j + 1;
                if (i < body.length()) {
                    require(body.charAt(i) == ',', "expected , between labels", where);
                    i++;
                }
            }
        }
        String value = m.group(4);
        require(NUMBER.matcher(value).matches(), "not a number: " + value, where);
        double v = switch (value) {
            case "+Inf" -> Double.POSITIVE_INFINITY;
            case "-Inf" -> Double.NEGATIVE_INFINITY;
            case "NaN" -> Double.NaN;
            default -> Double.parseDouble(value);
        };
        return new Sample(m.group(1), labels, v);
    }

    private static void require(boolean ok, String what, String where) {
        if (!ok) {
            throw new IllegalArgumentException(what + " (" + where + ")");
        }
    }
}
