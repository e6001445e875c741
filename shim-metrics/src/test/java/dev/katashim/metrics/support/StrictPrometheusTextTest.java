package dev.katashim.metrics.support;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The test parser is itself a judge: it must accept good text and refuse each kind of bad text. */
class StrictPrometheusTextTest {
    private static final String HISTOGRAM = """
            # HELP h Latency.
            # TYPE h histogram
            h_bucket{action="a",le="1"} 1
            h_bucket{action="a",le="2"} 3
            h_bucket{action="a",le="+Inf"} 4
            h_sum{action="a"} 7.5
            h_count{action="a"} 4
            """;

    @Test
    void acceptsWellFormedText() {
        Map<String, StrictPrometheusText.Family> f = StrictPrometheusText.parse(HISTOGRAM + """
                # HELP g A gauge with "quotes" and \\\\ a backslash.
                # TYPE g gauge
                g{item="x\\"y",other="z\\\\"} 1.5e3
                g{item="n"} NaN
                # HELP c Counts.
                # TYPE c counter
                c 3
                """);
        assertThat(f.keySet()).containsExactly("h", "g", "c");
        assertThat(f.get("g").value("item", "x\"y")).isEqualTo(1500.0);
        assertThat(f.get("h").value("le", "2")).isEqualTo(3.0);
        assertThat(f.get("c").type()).isEqualTo("counter");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            second HELP                 | # HELP g x\\n# HELP g y\\n# TYPE g gauge\\ng 1\\n
            second TYPE                 | # HELP g x\\n# TYPE g gauge\\n# TYPE g gauge\\ng 1\\n
            no HELP                     | # TYPE g gauge\\ng 1\\n
            no TYPE                     | # HELP g x\\ng 1\\n
            TYPE after samples          | # HELP g x\\ng 1\\n# TYPE g gauge\\n
            label twice                 | # HELP g x\\n# TYPE g gauge\\ng{a="1",a="2"} 1\\n
            bad label name              | # HELP g x\\n# TYPE g gauge\\ng{1a="1"} 1\\n
            duplicate series            | # HELP g x\\n# TYPE g gauge\\ng{a="1"} 1\\ng{a="1"} 2\\n
            not a number                | # HELP g x\\n# TYPE g gauge\\ng one\\n
            family split                | # HELP g x\\n# TYPE g gauge\\ng{a="1"} 1\\n# HELP k x\\n# TYPE k gauge\\nk 1\\n# HELP g x\\n
            sample of another family    | # HELP g x\\n# TYPE g gauge\\nk 1\\n
            buckets not cumulative      | # HELP h x\\n# TYPE h histogram\\nh_bucket{le="1"} 3\\nh_bucket{le="+Inf"} 2\\nh_sum 1\\nh_count 2\\n
            no +Inf bucket              | # HELP h x\\n# TYPE h histogram\\nh_bucket{le="1"} 3\\nh_sum 1\\nh_count 3\\n
            count differs from +Inf     | # HELP h x\\n# TYPE h histogram\\nh_bucket{le="1"} 3\\nh_bucket{le="+Inf"} 3\\nh_sum 1\\nh_count 4\\n
            no newline at the end       | # HELP g x\\n# TYPE g gauge\\ng 1
            bad escape                  | # HELP g x\\n# TYPE g gauge\\ng{a="\\\\x"} 1\\n
            """)
    void refuses(String what, String escapedText) {
        String text = escapedText.replace("\\n", "\n").replace("\\\\", "\\");
        assertThatThrownBy(() -> StrictPrometheusText.parse(text)).as(what).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void openMetricsNeedsEofAndTotalSuffixedCounters() {
        String good = "# TYPE c counter\n# HELP c x\nc_total 3\n# EOF\n";
        assertThat(StrictPrometheusText.parseOpenMetrics(good).get("c").samples()).hasSize(1);
        assertThatThrownBy(() -> StrictPrometheusText.parseOpenMetrics("# TYPE c counter\n# HELP c x\nc_total 3\n"))
                .hasMessageContaining("EOF");
        assertThatThrownBy(() -> StrictPrometheusText.parseOpenMetrics("# TYPE c counter\n# HELP c x\nc 3\n# EOF\n"))
                .hasMessageContaining("outside its family");
        assertThatThrownBy(() -> StrictPrometheusText.parseOpenMetrics("# TYPE c_seconds gauge\n# UNIT c_seconds bytes\n# HELP c_seconds x\nc_seconds 3\n# EOF\n"))
                .hasMessageContaining("UNIT");
        assertThatThrownBy(() -> StrictPrometheusText.parse(good)).isInstanceOf(IllegalArgumentException.class);
    }
}
