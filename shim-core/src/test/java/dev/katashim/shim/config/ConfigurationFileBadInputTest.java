package dev.katashim.shim.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Configuration files a user should not have, each refused with a message naming the file and the problem. */
class ConfigurationFileBadInputTest {
    private static final String QEMU = "[hypervisor.qemu]\nkernel = \"/k\"\ninitrd = \"/i\"\n";

    @TempDir
    Path dir;

    @Test
    void tenMebibytesOfConfigurationAreRefusedUnread() throws Exception {
        Path file = dir.resolve("configuration.toml");
        Files.writeString(file, QEMU + "# padding\n".repeat((10 << 20) / 10 + 1));
        assertThat(Files.size(file)).isGreaterThanOrEqualTo(10L << 20);
        assertThatThrownBy(() -> KataConfigLoader.load(file)).isInstanceOf(ConfigException.class)
                .hasMessageContaining(file.toString())
                .hasMessageContaining("larger than " + KataConfigLoader.MAX_BYTES + " bytes");
    }

    @Test
    @org.junit.jupiter.api.Timeout(value = 60, unit = TimeUnit.SECONDS)
    void aDeviceOrAFifoIsNotAConfigurationFile() throws Exception {
        // /dev/zero never ends and a FIFO blocks its reader: neither may hang or fill the shim
        assertThatThrownBy(() -> KataConfigLoader.load(Path.of("/dev/zero"))).isInstanceOf(ConfigException.class)
                .hasMessageContaining("/dev/zero").hasMessageContaining("not a regular file");
        Path fifo = dir.resolve("configuration.fifo");
        new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start().waitFor();
        assertThatThrownBy(() -> KataConfigLoader.load(fifo)).isInstanceOf(ConfigException.class)
                .hasMessageContaining(fifo.toString()).hasMessageContaining("not a regular file");
        assertThatThrownBy(() -> KataConfigLoader.load(dir)).isInstanceOf(ConfigException.class)
                .hasMessageContaining(dir.toString()).hasMessageContaining("not a regular file");
    }

    @Test
    void aPathWithANulByteIsNamedNotThrown() throws Exception {
        Path file = Files.writeString(dir.resolve("nul.toml"), "[hypervisor.qemu]\nkernel = \"/opt/a\\u0000b\"\ninitrd = \"/i\"\n");
        assertThatThrownBy(() -> KataConfigLoader.load(file)).isInstanceOf(ConfigException.class)
                .hasMessageContaining(file.toString()).hasMessageContaining("kernel").hasMessageContaining("not a valid path");
    }
}
