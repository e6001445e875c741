package dev.katashim.metrics.expo;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Reads the Prometheus text format 0.0.4 strictly, one family at a time: a family with anything
 * wrong in it (a malformed line, a second HELP or TYPE, a TYPE after its samples, a label given
 * twice, a repeated series, a histogram whose buckets are not cumulative or lack {@code +Inf} or
 * whose {@code _count} differs from it, a family that reappears after others) is rejected whole,
 * with the reason, and the others are kept. Nothing in the input can make it throw.
 * Why it is long (~420 lines): one grammar, read in one pass, with every rejection rule beside the
 * line it checks; the rules only make sense together.
 */
public final class TextFormatParser {
    private static final Pattern FLOAT = Pattern.compile("[+-]?(?:\\d+\\.?\\d*|\\.\\d+)(?:[eE][+-]?\\d+)?");
    private static final Pattern INF = Pattern.compile("(?i)[+-]?inf(?:inity)?");
    private static final Pattern NAN = Pattern.compile("(?i)nan");
    private static final Pattern TIMESTAMP = Pattern.compile("-?\\d{1,19}");

    /** A family (or a line outside any) left out, and why. */
    public record Rejected(String family, int line, String reason) {
        @Override
        public String toString() {
            return (family == null ? "line " + line : family + " (line " + line + ")") + ": " + reason;
        }
    }

    public record Result(List<MetricFamily> families, List<Rejected> rejected) {
    }

    private TextFormatParser() {
    }

    private static final class Block {
        final String name;
        final int firstLine;
        MetricType type;
        String help;
        final List<Sample> samples = new ArrayList<>();
        String error;
        int errorLine;

        Block(String name, int firstLine) {
            this.name = name;
            this.firstLine = firstLine;
        }

        MetricType effectiveType() {
            return type == null ? MetricType.UNTYPED : type;
        }

        void fail(int line, String reason) {
            if (error == null) {
                error = reason;
                errorLine = line;
            }
        }
    }

    private static final class Failure extends Exception {
        Failure(String message) {
            super(message, null, false, false);
        }
    }

    public static Result parse(String text) {
        List<MetricFamily> families = new ArrayList<>();
        List<Rejected> rejected = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        Block current = null;
        String[] lines = text.split("\n", -1);
        for (int n = 0; n < lines.length; n++) {
            int lineNumber = n + 1;
            String line = lines[n];
            if (line.isBlank()) {
                continue;
            }
            if (line.startsWith("#")) {
                String[] head = line.substring(1).stripLeading().split("[ \t]+", 3);
                boolean help = head[0].equals("HELP");
                boolean type = head[0].equals("TYPE");
                if (!help && !type) {
                    continue; // a plain comment
                }
                if (head.length < 2 || !Names.isMetricName(head[1])) {
                    current = fail(current, null, lineNumber, "malformed " + head[0] + " line", families, rejected, seen);
                    continue;
                }
                String name = head[1];
                if (current == null || !current.name.equals(name)) {
                    finish(current, families, rejected, seen);
                    current = new Block(name, lineNumber);
                }
                String rest = head.length > 2 ? head[2] : "";
                if (help) {
                    if (current.help != null) {
                        current.fail(lineNumber, "second HELP line");
                    } else {
                        try {
                            current.help = unescapeHelp(rest);
                        } catch (Failure e) {
                            current.fail(lineNumber, e.getMessage());
                        }
                    }
                } else {
                    MetricType metricType = MetricType.ofWord(rest.strip());
                    if (metricType == null) {
                        current.fail(lineNumber, "unknown type '" + rest.strip() + "'");
                    } else if (current.type != null) {
                        current.fail(lineNumber, "second TYPE line");
                    } else if (!current.samples.isEmpty()) {
                        current.fail(lineNumber, "TYPE after samples");
                    } else {
                        current.type = metricType;
                    }
                }
                continue;
            }
            String sampleName = leadingName(line);
            Sample sample = null;
            String problem = null;
            try {
                sample = sample(line);
            } catch (Failure | RuntimeException e) {
                problem = e.getMessage();
            }
            boolean belongs = current != null && sampleName != null
                    && MetricFamily.belongs(current.name, current.effectiveType(), sampleName);
            if (!belongs) {
                if (sampleName == null) {
                    current = fail(current, null, lineNumber, problem == null ? "malformed line" : problem, families, rejected, seen);
                    continue;
                }
                finish(current, families, rejected, seen);
                current = new Block(sampleName, lineNumber); // a family without TYPE: untyped
            }
            if (problem != null) {
                current.fail(lineNumber, problem);
            } else {
                current.samples.add(sample);
            }
        }
        finish(current, families, rejected, seen);
        return new Result(List.copyOf(families), List.copyOf(rejected));
    }

    /** Blames a bad line on the family it sits in, or on nobody when it is outside any. */
    private static Block fail(Block current, String family, int line, String reason, List<MetricFamily> families,
                              List<Rejected> rejected, Set<String> seen) {
        if (current != null) {
            current.fail(line, reason);
            return current;
        }
        rejected.add(new Rejected(family, line, reason));
        return null;
    }

    private static void finish(Block block, List<MetricFamily> families, List<Rejected> rejected, Set<String> seen) {
        if (block == null) {
            return;
        }
        if (!seen.add(block.name)) {
            rejected.add(new Rejected(block.name, block.firstLine, "family appears a second time (its lines must be together)"));
            return;
        }
        if (block.error != null) {
            rejected.add(new Rejected(block.name, block.errorLine, block.error));
            return;
        }
        String invalid = validate(block);
        if (invalid != null) {
            rejected.add(new Rejected(block.name, block.firstLine, invalid));
            return;
        }
        families.add(new MetricFamily(block.name, block.effectiveType(), block.help, block.samples));
    }

    private static String validate(Block block) {
        Set<String> series = new HashSet<>();
        for (Sample s : block.samples) {
            if (!series.add(s.name() + sortedLabels(s, null))) {
                return "repeated series " + s.name() + sortedLabels(s, null);
            }
        }
        return switch (block.effectiveType()) {
            case HISTOGRAM -> validateHistogram(block);
            case SUMMARY -> validateSummary(block);
            default -> null;
        };
    }

    private static String validateHistogram(Block block) {
        Map<String, TreeMap<Double, Double>> buckets = new HashMap<>();
        Map<String, Double> counts = new HashMap<>();
        Set<String> sums = new HashSet<>();
        for (Sample s : block.samples) {
            String key = sortedLabels(s, "le");
            if (s.name().endsWith("_bucket")) {
                String le = s.label("le");
                if (le == null) {
                    return "bucket without le";
                }
                Double bound = parseNumber(le);
                if (bound == null) {
                    return "bucket bound le=\"" + le + "\" is not a number";
                }
                buckets.computeIfAbsent(key, k -> new TreeMap<>()).put(bound, s.value());
            } else if (s.label("le") != null) {
                return s.name() + " with an le label";
            } else if (s.name().endsWith("_count")) {
                counts.put(key, s.value());
            } else {
                sums.add(key);
            }
        }
        Set<String> all = new HashSet<>(buckets.keySet());
        all.addAll(counts.keySet());
        all.addAll(sums);
        for (String key : all) {
            TreeMap<Double, Double> b = buckets.get(key);
            if (b == null || !b.lastKey().equals(Double.POSITIVE_INFINITY)) {
                return "series " + key + " has no +Inf bucket";
            }
            double previous = 0;
            for (double count : b.values()) {
                if (!(count >= previous)) {
                    return "buckets of " + key + " are not cumulative";
                }
                previous = count;
            }
            Double count = counts.get(key);
            if (count == null || !sums.contains(key)) {
                return "series " + key + " lacks _count or _sum";
            }
            if (count.doubleValue() != b.lastEntry().getValue()) {
                return "_count of " + key + " (" + count + ") differs from its +Inf bucket (" + b.lastEntry().getValue() + ")";
            }
        }
        return null;
    }

    private static String validateSummary(Block block) {
        for (Sample s : block.samples) {
            if (s.name().equals(block.name)) {
                String q = s.label("quantile");
                if (q == null || parseNumber(q) == null) {
                    return "summary sample without a numeric quantile";
                }
            } else if (s.label("quantile") != null) {
                return s.name() + " with a quantile label";
            }
        }
        return null;
    }

    private static String sortedLabels(Sample s, String except) {
        TreeMap<String, String> sorted = new TreeMap<>();
        for (Label l : s.labels()) {
            if (!l.name().equals(except)) {
                sorted.put(l.name(), l.value());
            }
        }
        return sorted.toString();
    }

    /** The metric name a sample line starts with, or null. */
    private static String leadingName(String line) {
        int end = 0;
        while (end < line.length() && line.charAt(end) != '{' && line.charAt(end) != ' ' && line.charAt(end) != '\t') {
            end++;
        }
        String name = line.substring(0, end);
        return Names.isMetricName(name) ? name : null;
    }

    private static Sample sample(String line) throws Failure {
        String name = leadingName(line);
        if (name == null) {
            throw new Failure("malformed metric name");
        }
        int i = name.length();
        List<Label> labels = new ArrayList<>();
        if (i < line.length() && line.charAt(i) == '{') {
            i++;
            Set<String> names = new HashSet<>();
            while (true) {
                i = skipBlanks(line, i);
                if (i >= line.length()) {
                    throw new Failure("unterminated label set");
                }
                if (line.charAt(i) == '}') {
                    i++;
                    break;
                }
                int eq = line.indexOf('=', i);
                if (eq < 0) {
                    throw new Failure("label without '='");
                }
                String labelName = line.substring(i, eq).strip();
                if (!Names.isLabelName(labelName)) {
                    throw new Failure("malformed label name '" + labelName + "'");
                }
                if (!names.add(labelName)) {
                    throw new Failure("label " + labelName + " given twice");
                }
                i = skipBlanks(line, eq + 1);
                if (i >= line.length() || line.charAt(i) != '"') {
                    throw new Failure("label value of " + labelName + " not quoted");
                }
                StringBuilder value = new StringBuilder();
                i++;
                while (true) {
                    if (i >= line.length()) {
                        throw new Failure("unterminated label value of " + labelName);
                    }
                    char c = line.charAt(i++);
                    if (c == '"') {
                        break;
                    }
                    if (c == '\\') {
                        if (i >= line.length()) {
                            throw new Failure("unterminated escape in label " + labelName);
                        }
                        char e = line.charAt(i++);
                        switch (e) {
                            case '\\' -> value.append('\\');
                            case '"' -> value.append('"');
                            case 'n' -> value.append('\n');
                            default -> throw new Failure("invalid escape \\" + e + " in label " + labelName);
                        }
                    } else {
                        value.append(c);
                    }
                }
                labels.add(new Label(labelName, value.toString()));
                i = skipBlanks(line, i);
                if (i < line.length() && line.charAt(i) == ',') {
                    i++;
                } else if (i >= line.length() || line.charAt(i) != '}') {
                    throw new Failure("expected ',' or '}' after label " + labelName);
                }
            }
        }
        if (i >= line.length() || line.charAt(i) != ' ' && line.charAt(i) != '\t') {
            throw new Failure("no blank before the value");
        }
        String[] rest = line.substring(i).strip().split("[ \t]+");
        if (rest.length < 1 || rest.length > 2 || rest[0].isEmpty()) {
            throw new Failure("expected a value and at most a timestamp");
        }
        Double value = parseNumber(rest[0]);
        if (value == null) {
            throw new Failure("value '" + rest[0] + "' is not a number");
        }
        long timestamp = Sample.NO_TIMESTAMP;
        if (rest.length == 2) {
            if (!TIMESTAMP.matcher(rest[1]).matches()) {
                throw new Failure("timestamp '" + rest[1] + "' is not an integer");
            }
            try {
                timestamp = Long.parseLong(rest[1]);
            } catch (NumberFormatException e) {
                throw new Failure("timestamp '" + rest[1] + "' out of range");
            }
        }
        return new Sample(name, labels, value, timestamp);
    }

    private static int skipBlanks(String line, int i) {
        while (i < line.length() && (line.charAt(i) == ' ' || line.charAt(i) == '\t')) {
            i++;
        }
        return i;
    }

    /** A float as Go's ParseFloat reads one (decimal, Inf, NaN), or null. */
    static Double parseNumber(String text) {
        if (FLOAT.matcher(text).matches()) {
            return Double.parseDouble(text);
        }
        if (INF.matcher(text).matches()) {
            return text.startsWith("-") ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY;
        }
        if (NAN.matcher(text).matches()) {
            return Double.NaN;
        }
        return null;
    }

    private static String unescapeHelp(String text) throws Failure {
        if (text.indexOf('\\') < 0) {
            return text;
        }
        StringBuilder out = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c != '\\') {
                out.append(c);
                continue;
            }
            if (++i >= text.length()) {
                throw new Failure("HELP ends in a lone backslash");
            }
            char e = text.charAt(i);
            switch (e) {
                case '\\' -> out.append('\\');
                case 'n' -> out.append('\n');
                default -> throw new Failure("invalid escape \\" + e + " in HELP");
            }
        }
        return out.toString();
    }
}
