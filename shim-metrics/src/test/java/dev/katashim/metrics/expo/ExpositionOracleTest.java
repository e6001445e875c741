package dev.katashim.metrics.expo;

import dev.katashim.metrics.support.StrictPrometheusText;
import io.prometheus.metrics.config.EscapingScheme;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.OpenMetricsTextFormatWriter;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Our writers against an independent implementation of the same formats, the Prometheus Java
 * client 1.10: the same data written by both must read back the same (families, types, help,
 * every sample's name, labels and value), in the text format 0.0.4 and in OpenMetrics; and our
 * parser must read what the Java client writes (the guest agent uses it).
 */
class ExpositionOracleTest {
    private static final double[] BOUNDS = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512};

    private static String write(PrometheusRegistry registry, boolean openMetrics) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        if (openMetrics) {
            new OpenMetricsTextFormatWriter(false, false).write(out, registry.scrape(), EscapingScheme.ALLOW_UTF8);
        } else {
            PrometheusTextFormatWriter.create().write(out, registry.scrape(), EscapingScheme.ALLOW_UTF8);
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    /** The same content in both: a labelled histogram, a gauge with awkward label values, a counter. */
    private static PrometheusRegistry theirs() {
        PrometheusRegistry registry = new PrometheusRegistry();
        Histogram h = Histogram.builder().name("rpc_milliseconds").help("RPC latency distributions.").labelNames("action")
                .classicUpperBounds(BOUNDS).classicOnly().withoutExemplars().register(registry);
        h.labelValues("create").observe(3);
        h.labelValues("create").observe(700);
        h.labelValues("wait").observe(0.5);
        Gauge g = Gauge.builder().name("things").help("Things with \\ and\nnewline.").labelNames("interface", "item")
                .register(registry);
        g.labelValues("eth\"0", "recv_bytes").set(1.5e10);
        g.labelValues("lo\\", "sent_bytes").set(0.25);
        Counter c = Counter.builder().name("scrapes").help("Scrape count.").withoutExemplars().register(registry);
        c.inc(7);
        return registry;
    }

    private static List<MetricFamily> ours(String counterName) {
        List<Sample> h = new ArrayList<>();
        long[] create = {0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2};
        long[] wait = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
        for (int i = 0; i <= BOUNDS.length; i++) {
            String le = i < BOUNDS.length ? Long.toString((long) BOUNDS[i]) : "+Inf";
            h.add(Sample.of("rpc_milliseconds_bucket", create[i], "action", "create", "le", le));
        }
        h.add(Sample.of("rpc_milliseconds_sum", 703, "action", "create"));
        h.add(Sample.of("rpc_milliseconds_count", 2, "action", "create"));
        for (int i = 0; i <= BOUNDS.length; i++) {
            String le = i < BOUNDS.length ? Long.toString((long) BOUNDS[i]) : "+Inf";
            h.add(Sample.of("rpc_milliseconds_bucket", wait[i], "action", "wait", "le", le));
        }
        h.add(Sample.of("rpc_milliseconds_sum", 0.5, "action", "wait"));
        h.add(Sample.of("rpc_milliseconds_count", 1, "action", "wait"));
        return List.of(
                new MetricFamily("rpc_milliseconds", MetricType.HISTOGRAM, "RPC latency distributions.", h),
                new MetricFamily(counterName, MetricType.COUNTER, "Scrape count.", List.of(Sample.of(counterName, 7))),
                new MetricFamily("things", MetricType.GAUGE, "Things with \\ and\nnewline.", List.of(
                        Sample.of("things", 1.5e10, "interface", "eth\"0", "item", "recv_bytes"),
                        Sample.of("things", 0.25, "interface", "lo\\", "item", "sent_bytes"))));
    }

    /**
     * A comparable view: family → type, help, and sample name + sorted labels → value. Bucket
     * bounds compare as numbers: the Java client writes {@code le="1.0"}, Go's (and ours) {@code le="1"}.
     */
    private static Map<String, String> view(Map<String, StrictPrometheusText.Family> families) {
        Map<String, String> view = new TreeMap<>();
        families.forEach((name, f) -> {
            Map<String, Double> samples = new TreeMap<>();
            f.samples().forEach(s -> {
                Map<String, String> labels = new TreeMap<>(s.labels());
                labels.computeIfPresent("le", (k, le) -> le.equals("+Inf") ? le : Double.toString(Double.parseDouble(le)));
                samples.put(s.name() + labels, s.value());
            });
            view.put(name, f.type() + " | " + f.help() + " | " + samples);
        });
        return view;
    }

    @Test
    void textFormatReadsBackAsTheJavaClientsDoes() throws Exception {
        // the Java client names the counter scrapes_total in 0.0.4; ours writes whatever name it is given
        Map<String, String> theirs = view(StrictPrometheusText.parse(write(theirs(), false)));
        Map<String, String> ours = view(StrictPrometheusText.parse(TextFormat.write(ours("scrapes_total"))));
        assertThat(ours).isEqualTo(theirs);
    }

    @Test
    void openMetricsReadsBackAsTheJavaClientsDoes() throws Exception {
        Map<String, String> theirs = view(StrictPrometheusText.parseOpenMetrics(write(theirs(), true)));
        // in OpenMetrics a counter family has no _total and its sample has: both spellings of our name agree
        assertThat(view(StrictPrometheusText.parseOpenMetrics(OpenMetricsFormat.write(ours("scrapes"))))).isEqualTo(theirs);
        assertThat(view(StrictPrometheusText.parseOpenMetrics(OpenMetricsFormat.write(ours("scrapes_total"))))).isEqualTo(theirs);
    }

    @Test
    void aCounterKeepsTheSpecsNameInTheTextFormat() {
        String text = TextFormat.write(List.of(new MetricFamily("kata_hypervisor_scrape_count", MetricType.COUNTER, "Metrics scrape count",
                List.of(Sample.of("kata_hypervisor_scrape_count", 3)))));
        assertThat(text).isEqualTo("""
                # HELP kata_hypervisor_scrape_count Metrics scrape count
                # TYPE kata_hypervisor_scrape_count counter
                kata_hypervisor_scrape_count 3
                """);
    }

    @Test
    void ourParserReadsWhatTheJavaClientWrites() throws Exception {
        TextFormatParser.Result parsed = TextFormatParser.parse(write(theirs(), false));
        assertThat(parsed.rejected()).isEmpty();
        Map<String, String> back = new TreeMap<>();
        for (MetricFamily f : parsed.families()) {
            back.put(f.name(), f.type() + " " + f.samples().size());
        }
        assertThat(back).containsEntry("rpc_milliseconds", "HISTOGRAM 26").containsEntry("scrapes_total", "COUNTER 1")
                .containsEntry("things", "GAUGE 2");
        // and what it read writes out as the same text the Java client would have read
        assertThat(view(StrictPrometheusText.parse(TextFormat.write(parsed.families()))))
                .isEqualTo(view(StrictPrometheusText.parse(write(theirs(), false))));
    }
}
