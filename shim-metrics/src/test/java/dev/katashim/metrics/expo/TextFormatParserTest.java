package dev.katashim.metrics.expo;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The module's parser drops exactly the malformed family, says why, and keeps the rest. */
class TextFormatParserTest {
    private static final String GOOD_BEFORE = "# HELP a_first A.\n# TYPE a_first gauge\na_first 1\n";
    private static final String GOOD_AFTER = "# HELP z_last Z.\n# TYPE z_last gauge\nz_last{item=\"x\"} 2\n";

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            value not a number            | # TYPE bad gauge\\nbad one\\n                                              | not a number
            label twice                   | # TYPE bad gauge\\nbad{a="1",a="2"} 1\\n                                 | given twice
            unquoted label value          | # TYPE bad gauge\\nbad{a=1} 1\\n                                           | not quoted
            bad escape                    | # TYPE bad gauge\\nbad{a="\\\\q"} 1\\n                                     | invalid escape
            unterminated labels           | # TYPE bad gauge\\nbad{a="1" 1\\n                                          | expected
            second TYPE                   | # TYPE bad gauge\\n# TYPE bad counter\\nbad 1\\n                          | second TYPE
            second HELP                   | # HELP bad x\\n# HELP bad y\\nbad 1\\n                                     | second HELP
            TYPE after samples            | # HELP bad x\\nbad 1\\n# TYPE bad gauge\\n                                 | TYPE after samples
            unknown type                  | # TYPE bad meter\\nbad 1\\n                                                | unknown type
            repeated series               | # TYPE bad gauge\\nbad{a="1"} 1\\nbad{a="1"} 2\\n                         | repeated series
            buckets not cumulative        | # TYPE bad histogram\\nbad_bucket{le="1"} 5\\nbad_bucket{le="+Inf"} 4\\nbad_sum 1\\nbad_count 4\\n | not cumulative
            no +Inf bucket                | # TYPE bad histogram\\nbad_bucket{le="1"} 5\\nbad_sum 1\\nbad_count 5\\n   | +Inf
            count differs                 | # TYPE bad histogram\\nbad_bucket{le="+Inf"} 5\\nbad_sum 1\\nbad_count 6\\n | differs
            bucket without le             | # TYPE bad histogram\\nbad_bucket 5\\nbad_sum 1\\nbad_count 5\\n          | without le
            timestamp not a number        | # TYPE bad gauge\\nbad 1 soon\\n                                           | timestamp
            extra field                   | # TYPE bad gauge\\nbad 1 2 3\\n                                            | at most a timestamp
            """)
    void dropsTheMalformedFamilyAndKeepsTheOthers(String what, String escaped, String reason) {
        String bad = escaped.replace("\\n", "\n").replace("\\\\", "\\");
        TextFormatParser.Result result = TextFormatParser.parse(GOOD_BEFORE + bad + GOOD_AFTER);
        assertThat(result.families()).extracting(MetricFamily::name).as(what).containsExactly("a_first", "z_last");
        assertThat(result.rejected()).as(what).hasSize(1);
        assertThat(result.rejected().getFirst().family()).isEqualTo("bad");
        assertThat(result.rejected().getFirst().reason()).as(what).contains(reason);
    }

    @Test
    void aFamilyThatComesBackIsRejectedTheFirstKept() {
        TextFormatParser.Result result = TextFormatParser.parse(GOOD_BEFORE + GOOD_AFTER + "# TYPE a_first gauge\na_first 9\n");
        assertThat(result.families()).extracting(MetricFamily::name).containsExactly("a_first", "z_last");
        assertThat(result.families().getFirst().samples().getFirst().value()).isEqualTo(1);
        assertThat(result.rejected()).singleElement().satisfies(r -> assertThat(r.reason()).contains("second time"));
    }

    @Test
    void readsTheFormsTheFormatAllows() {
        TextFormatParser.Result result = TextFormatParser.parse("""
                # a plain comment
                untyped_thing{a="1",} 3 1700000000000
                # HELP go_gc_duration_seconds A summary.
                # TYPE go_gc_duration_seconds summary
                go_gc_duration_seconds{quantile="0.5"} 1e-05
                go_gc_duration_seconds_sum 0.5
                go_gc_duration_seconds_count 9
                # HELP weird Values.
                # TYPE weird gauge
                weird{x="a"} +Inf
                weird{x="b"} -Inf
                weird{x="c"} NaN
                weird{x="d"}\t-1.5E3

                """);
        assertThat(result.rejected()).isEmpty();
        assertThat(result.families()).extracting(MetricFamily::name).containsExactly("untyped_thing", "go_gc_duration_seconds", "weird");
        MetricFamily untyped = result.families().getFirst();
        assertThat(untyped.type()).isEqualTo(MetricType.UNTYPED);
        assertThat(untyped.samples().getFirst().timestampMillis()).isEqualTo(1700000000000L);
        assertThat(result.families().get(2).samples()).extracting(Sample::value)
                .containsExactly(Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, Double.NaN, -1500.0);
    }

    @Test
    void garbageOutsideAnyFamilyIsReportedAndHarmless() {
        TextFormatParser.Result result = TextFormatParser.parse("{{{ not metrics\n" + GOOD_BEFORE + "\u0000\u0001 binary\n");
        assertThat(result.families()).isEmpty(); // the garbage line after a_first lands in a_first: a_first is dropped
        assertThat(result.rejected()).hasSize(2);
        TextFormatParser.Result clean = TextFormatParser.parse("{{{ not metrics\n" + GOOD_BEFORE);
        assertThat(clean.families()).extracting(MetricFamily::name).containsExactly("a_first");
        assertThat(clean.rejected()).singleElement().satisfies(r -> assertThat(r.family()).isNull());
    }

    @Test
    void writtenTextReadsBackTheSame() {
        List<MetricFamily> families = List.of(
                new MetricFamily("g", MetricType.GAUGE, "help with \\ and \n", List.of(Sample.of("g", 0.1, "a", "x\"y\\z\nw"))),
                new MetricFamily("c_total", MetricType.COUNTER, "", List.of(Sample.of("c_total", 1e20))));
        TextFormatParser.Result back = TextFormatParser.parse(TextFormat.write(families));
        assertThat(back.rejected()).isEmpty();
        assertThat(back.families()).isEqualTo(families);
    }
}
