package dev.katashim.shim.oci;

import dev.katashim.ttrpc.status.StatusCode;
import dev.katashim.ttrpc.status.TtrpcException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BundleTest {
    @TempDir
    Path bundle;

    private void assertRefused(String configJson, String... fragments) throws Exception {
        Files.writeString(bundle.resolve("config.json"), configJson);
        assertThatThrownBy(() -> Bundle.read(bundle)).isInstanceOfSatisfying(TtrpcException.class, e -> {
            assertThat(e.code()).isEqualTo(StatusCode.INVALID_ARGUMENT);
            assertThat(e.getMessage()).contains("cannot parse " + bundle.resolve("config.json")).contains(fragments);
        });
    }

    /** Found by ConfigJsonProperties: nesting beyond Jackson's limit has no location, and was a NullPointerException. */
    @Test
    void nestingBeyondTheParsersLimitIsNamed() throws Exception {
        assertRefused("{\"process\":" + "[".repeat(5000) + "]".repeat(5000) + "}", "nesting depth");
    }

    @Test
    void aSyntaxErrorIsNamedWithItsLine() throws Exception {
        assertRefused("{\n\"process\": {,}\n}", "at line 2");
    }
}
