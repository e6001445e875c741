package dev.katashim.shim.oci;

import dev.katashim.ttrpc.status.StatusCode;
import dev.katashim.ttrpc.status.TtrpcException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** containerd's identifier rule, which every id from containerd passes before it names a path. */
class IdentifiersTest {

    @ParameterizedTest
    @ValueSource(strings = {"a", "pod1", "sb-1a2b3c4d", "my_container.v2", "A9", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"})
    void containerdsIdsPass(String id) {
        assertThat(Identifiers.check("container id", id)).isEqualTo(id);
        assertThat(Identifiers.isValid(id)).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"..", ".", "../escape", "a/b", "/abs", "a..b", "-lead", "trail-", "a b", "a\u0000b", "é"})
    void pathsAndOddCharactersAreRefusedNamingTheId(String id) {
        assertThatThrownBy(() -> Identifiers.check("container id", id)).isInstanceOfSatisfying(TtrpcException.class, e -> {
            assertThat(e.code()).isEqualTo(StatusCode.INVALID_ARGUMENT);
            assertThat(e.getMessage()).startsWith("invalid container id '").contains("containerd's identifier rule");
        });
        assertThat(Identifiers.isValid(id)).isFalse();
    }

    @Test
    void aControlCharacterIsShownEscapedNotWrittenIntoTheMessage() {
        assertThatThrownBy(() -> Identifiers.check("exec id", "a\nforged log line")).isInstanceOfSatisfying(TtrpcException.class,
                e -> assertThat(e.getMessage()).contains("a\\x0aforged").doesNotContain("\n"));
    }

    @Test
    void idsLongerThanSeventySixCharactersAreRefusedWithTheirLength() {
        assertThat(Identifiers.check("container id", "a".repeat(76))).hasSize(76);
        String thousand = "a".repeat(1000);
        assertThatThrownBy(() -> Identifiers.check("container id", thousand)).isInstanceOfSatisfying(TtrpcException.class, e -> {
            assertThat(e.code()).isEqualTo(StatusCode.INVALID_ARGUMENT);
            assertThat(e.getMessage()).contains("1000 characters, more than the 76 containerd allows");
            assertThat(e.getMessage().length()).as("the id is quoted, not copied whole").isLessThan(250);
        });
    }

    @Test
    void anEmptyIdIsRefused() {
        assertThatThrownBy(() -> Identifiers.check("exec id", "")).isInstanceOfSatisfying(TtrpcException.class,
                e -> assertThat(e.getMessage()).isEqualTo("invalid exec id '': must not be empty"));
    }
}
