package dev.katashim.it.shim;

import dev.katashim.it.support.BusyboxRootfs;
import dev.katashim.it.support.CommandResult;
import dev.katashim.it.support.PrivateContainerd;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** VM sandboxes that cannot start: the container's creation fails saying what is wrong and where. */
class QemuConfigurationErrorsTest {
    private static final Path REPO = Path.of("").toAbsolutePath().getParent();

    private static CommandResult runWith(Path dir, Path config) {
        try (PrivateContainerd containerd = PrivateContainerd.builder().prependToPath(REPO.resolve("bin"))
                .environment("KATA_CONF_FILE", config.toString()).start()) {
            String rootfs = BusyboxRootfs.create(dir.resolve("rootfs")).path().toString();
            return containerd.ctrWithInput(new byte[0], Duration.ofMinutes(2), "run", "--rm", "--runtime", "io.containerd.kata.v2",
                    "--rootfs", rootfs, containerd.uniqueId("bad"), "/bin/true");
        }
    }

    @Test
    void missingKernelIsNamed(@TempDir Path dir) {
        Path config = KataConfigs.write(dir.resolve("c.toml"), "[hypervisor.qemu]\nkernel = \"/nonexistent/vmlinuz\"\n"
                + "initrd = \"" + KataConfigs.guestImage(REPO).resolve("initramfs.img") + "\"\n");
        CommandResult result = runWith(dir, config);
        assertThat(result.exitCode()).isNotZero();
        assertThat(result.stderr()).contains("/nonexistent/vmlinuz");
    }

    @Test
    void missingQemuBinaryIsNamed(@TempDir Path dir) {
        Path config = KataConfigs.write(dir.resolve("c.toml"), "[hypervisor.qemu]\npath = \"/nonexistent/qemu-system-x86_64\"\n"
                + "kernel = \"" + KataConfigs.guestImage(REPO).resolve("vmlinuz") + "\"\n"
                + "initrd = \"" + KataConfigs.guestImage(REPO).resolve("initramfs.img") + "\"\n");
        CommandResult result = runWith(dir, config);
        assertThat(result.exitCode()).isNotZero();
        assertThat(result.stderr()).contains("/nonexistent/qemu-system-x86_64");
    }

    @Test
    void anAgentThatNeverAnswersNamesTheChannelAndTheConsoleLog(@TempDir Path dir) {
        // the guest boots a shell instead of its init: no agent ever listens on the channel
        Path config = KataConfigs.qemu(dir, REPO, "kernel_params = \"rdinit=/bin/sh\"", 8);
        CommandResult result = runWith(dir, config);
        assertThat(result.exitCode()).isNotZero();
        assertThat(result.stderr()).contains("agent.sock").contains("did not answer within 8000 ms").contains("console.log");
    }
}
