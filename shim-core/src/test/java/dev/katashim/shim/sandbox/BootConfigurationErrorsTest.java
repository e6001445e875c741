package dev.katashim.shim.sandbox;

import dev.katashim.metrics.ShimMetrics;
import dev.katashim.ttrpc.status.StatusCode;
import dev.katashim.ttrpc.status.TtrpcException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Where a user meets a bad configuration.toml: the sandbox's boot fails with INVALID_ARGUMENT
 * carrying the loader's message (containerd prints it as Create's error), before anything is made.
 */
class BootConfigurationErrorsTest {
    @TempDir
    Path dir;

    private void assertBootRefused(Path file, String problem) {
        ShimConfig config = new ShimConfig(List.of("/bin/false"), dir.resolve("sbs"), new KeptConsoleLogs(dir.resolve("kept")));
        assertThatThrownBy(() -> SandboxBoot.boot("sb1", Optional.of(file), Optional.empty(), config, new ShimMetrics()))
                .isInstanceOfSatisfying(TtrpcException.class, e -> {
                    assertThat(e.code()).isEqualTo(StatusCode.INVALID_ARGUMENT);
                    assertThat(e.getMessage()).contains(file.toString()).contains(problem);
                });
        assertThat(dir.resolve("sbs")).as("no sandbox directory").doesNotExist();
    }

    @Test
    void aTenMebibyteConfigurationFailsTheBootNamingTheFile() throws Exception {
        Path file = Files.writeString(dir.resolve("big.toml"), "[hypervisor.none]\n" + "#".repeat(10 << 20));
        assertBootRefused(file, "is larger than");
    }

    @Test
    void aSyntaxErrorFailsTheBootWithFileAndLine() throws Exception {
        Path file = Files.writeString(dir.resolve("broken.toml"), "[hypervisor.none]\n\nagent = [\n");
        assertBootRefused(file, "syntax error in " + file + ":");
    }
}
