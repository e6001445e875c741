package dev.katashim.agent.guest.support;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A strict reader of the Prometheus text exposition format (0.0.4): every sample must belong to
 * a family declared by a TYPE line before it, families must not interleave, series must not
 * repeat, names and labels must be well formed and values numbers. Throws on anything else.
 */
public final class PrometheusText {
    private static final Pattern NAME = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
    private static final Pattern LABEL_NAME = Pattern.compile("[a-zA-Z_][a-zA-Z0-9_]*");
    private static final Set<String> TYPES = Set.of("counter", "gauge", "histogram", "summary", "untyped");

    public record Sample(String name, Map<String, String> labels, double value) {
    }

    public record Family(String name, String type, String help, List<Sample> samples) {
        public List<String> labelValues(String label) {
            return samples.stream().map(s -> s.labels().get(label)).toList();
        }

        public double value(String label, String value) {
            return samples.stream().filter(s -> value.equals(s.labels().get(label))).findFirst()
                    .orElseThrow(() -> new AssertionError(name + " has no sample with " + label + "=" + value)).value();
        }
    }

    private PrometheusText() {
    }

    public static Map<String, Family> parse(String text) {
        Map<String, Family> families = new LinkedHashMap<>();
        Map<String, String> help = new TreeMap<>();
        Set<String> finished = new HashSet<>();
        Set<String> series = new HashSet<>();
        Family current = null;
        int lineNumber = 0;
        for (String line : text.split("\n", -1)) {
            lineNumber++;
            if (line.isEmpty()) {
                continue;
            }
            String where = "line " + lineNumber + ": " + line;
            if (line.startsWith("# HELP ")) {
                String[] parts = line.substring(7).split(" ", 2);
                require(NAME.matcher(parts[0]).matches(), "bad metric name", where);
                require(help.put(parts[0], parts.length > 1 ? parts[1] : "") == null, "second HELP", where);
                continue;
            }
            if (line.startsWith("# TYPE ")) {
                String[] parts = line.substring(7).split(" ");
                require(parts.length == 2 && NAME.matcher(parts[0]).matches() && TYPES.contains(parts[1]), "bad TYPE line", where);
                require(!families.containsKey(parts[0]), "second TYPE for a family", where);
                if (current != null) {
                    finished.add(current.name());
                }
                current = new Family(parts[0], parts[1], help.getOrDefault(parts[0], ""), new ArrayList<>());
                families.put(parts[0], current);
                continue;
            }
            require(!line.startsWith("#"), "unknown comment form", where);
            Sample sample = sample(line, where);
            require(current != null && belongs(sample.name(), current), "sample outside its family (no TYPE before it)", where);
            require(!finished.contains(current.name()), "family interleaved", where);
            require(series.add(sample.name() + new TreeMap<>(sample.labels())), "duplicate series", where);
            current.samples().add(sample);
        }
        return families;
    }

    private static boolean belongs(String sample, Family family) {
        if (sample.equals(family.name())) {
            return true;
        }
        return switch (family.type()) {
            case "histogram" -> sample.equals(family.name() + "_bucket") || sample.equals(family.name() + "_sum")
                    || sample.equals(family.name() + "_count");
            case "summary" -> sample.equals(family.name() + "_sum") || sample.equals(family.name() + "_count");
            default -> false;
        };
    }

    private static Sample sample(String line, String where) {
        Matcher name = NAME.matcher(line);
        require(name.lookingAt(), "bad metric name", where);
        int i = name.end();
        Map<String, String> labels = new LinkedHashMap<>();
        if (i < line.length() && line.charAt(i) == '{') {
            i++;
            while (line.charAt(i) != '}') {
                int eq = line.indexOf('=', i);
                require(eq > i, "bad label", where);
                String label = line.substring(i, eq);
                require(LABEL_NAME.matcher(label).matches(), "bad label name", where);
                require(line.charAt(eq + 1) == '"', "label value not quoted", where);
                StringBuilder value = new StringBuilder();
                int j = eq + 2;
                while (line.charAt(j) != '"') {
                    char c = line.charAt(j);
                    if (c == '\\') {
                        char next = line.charAt(++j);
                        require(next == '\\' || next == '"' || next == 'n', "bad escape", where);
                        value.append(next == 'n' ? '\n' : next);
                    } else {
                        value.append(c);
                    }
                    j++;
                }
                require(labels.put(label, value.toString()) == null, "repeated label", where);
                i = j + 1;
                if (line.charAt(i) == ',') {
                    i++;
                }
            }
            i++;
        }
        require(i < line.length() && line.charAt(i) == ' ', "no space before the value", where);
        String[] rest = line.substring(i + 1).split(" ");
        require(rest.length == 1 || rest.length == 2, "bad value part", where);
        double value = switch (rest[0]) {
            case "+Inf" -> Double.POSITIVE_INFINITY;
            case "-Inf" -> Double.NEGATIVE_INFINITY;
            case "NaN" -> Double.NaN;
            default -> {
                try {
                    yield Double.parseDouble(rest[0]);
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("not a number: " + where);
                }
            }
        };
        return new Sample(line.substring(0, name.end()), labels, value);
    }

    private static void require(boolean ok, String what, String where) {
        if (!ok) {
            throw new IllegalArgumentException(what + " at " + where);
        }
    }
}
