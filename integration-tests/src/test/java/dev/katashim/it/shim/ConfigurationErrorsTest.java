package dev.katashim.it.shim;

import dev.katashim.it.support.BusyboxRootfs;
import dev.katashim.it.support.CommandResult;
import dev.katashim.it.support.PrivateContainerd;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** A broken Kata configuration file fails the container's creation, saying which file and why. */
class ConfigurationErrorsTest {

    private static CommandResult runWith(Path dir, Path config) {
        Path repo = Path.of("").toAbsolutePath().getParent();
        try (PrivateContainerd containerd = PrivateContainerd.builder().prependToPath(repo.resolve("bin"))
                .environment("KATA_CONF_FILE", config.toString()).start()) {
            String rootfs = BusyboxRootfs.create(dir.resolve("rootfs")).path().toString();
            return containerd.ctr("run", "--rm", "--runtime", "io.containerd.kata.v2", "--rootfs", rootfs,
                    containerd.uniqueId("cfg"), "/bin/true");
        }
    }

    @Test
    void syntaxErrorNamesFileAndLine(@TempDir Path dir) {
        Path config = KataConfigs.write(dir.resolve("broken.toml"), "[hypervisor.none]\n\n[agent.kata]\ndial_timeout = = 3\n");
        CommandResult result = runWith(dir, config);
        assertThat(result.exitCode()).isNotZero();
        assertThat(result.stderr()).contains("syntax error in " + config + ":4:");
    }

    @Test
    void unknownHypervisorIsNamed(@TempDir Path dir) {
        Path config = KataConfigs.write(dir.resolve("fc.toml"), "[hypervisor.firecracker]\nkernel = \"/k\"\n");
        CommandResult result = runWith(dir, config);
        assertThat(result.exitCode()).isNotZero();
        assertThat(result.stderr()).contains("unknown hypervisor name \"firecracker\"").contains(config.toString());
    }
}
