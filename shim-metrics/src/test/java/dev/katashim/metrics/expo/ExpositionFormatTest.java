package dev.katashim.metrics.expo;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class ExpositionFormatTest {

    /** Found by HttpServerProperties: an Accept of only semicolons was a 500 (ArrayIndexOutOfBoundsException). */
    @Test
    void anAcceptHeaderOfEmptyRangesIsTheTextFormat() {
        for (String accept : new String[]{";;;", ";", ",", ";,;", " ; ", ";q=1"}) {
            assertThat(ExpositionFormat.negotiate(accept)).as(accept).isEqualTo(ExpositionFormat.TEXT_0_0_4);
        }
    }

    @Test
    void openMetricsWhenAskedForAtLeastAsMuchAsText() {
        assertThat(ExpositionFormat.negotiate("application/openmetrics-text; version=1.0.0")).isEqualTo(ExpositionFormat.OPENMETRICS_1_0_0);
        assertThat(ExpositionFormat.negotiate("application/openmetrics-text;q=0.5,text/plain")).isEqualTo(ExpositionFormat.TEXT_0_0_4);
        assertThat(ExpositionFormat.negotiate("application/openmetrics-text;version=9")).isEqualTo(ExpositionFormat.TEXT_0_0_4);
    }

    /** Any header a client sends picks a format; none makes the scrape fail. */
    @Property
    void anyAcceptHeaderPicksAFormat(@ForAll String accept) {
        assertThat(ExpositionFormat.negotiate(accept)).isNotNull();
    }

    @Property
    void anyHeaderBuiltOfTheSeparatorsPicksAFormat(@ForAll("separators") String accept) {
        assertThat(ExpositionFormat.negotiate(accept)).isNotNull();
    }

    @net.jqwik.api.Provide
    net.jqwik.api.Arbitrary<String> separators() {
        return net.jqwik.api.Arbitraries.strings().withChars(";,= qa/*").ofMaxLength(20);
    }
}
