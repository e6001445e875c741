package dev.katashim.shim.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class KataConfigLoaderTest {
    @TempDir
    Path dir;

    private Path write(String name, String toml) throws Exception {
        return Files.writeString(dir.resolve(name), toml);
    }

    @Test
    void readsUpstreamKeys() throws Exception {
        Path file = write("configuration.toml", """
                # as upstream's configuration-qemu.toml spells them
                [hypervisor.qemu]
                path = "/usr/bin/qemu-system-x86_64"
                kernel = "/opt/kata/vmlinuz"
                initrd = "/opt/kata/initramfs.img"
                machine_type = "q35"
                default_vcpus = 2
                default_memory = 1024
                shared_fs = "virtio-9p"
                kernel_params = "quiet agent.debug=1"
                enable_debug = true
                reclaim_guest_freed_memory = true

                [agent.kata]
                dial_timeout = 30
                debug = true

                [runtime]
                enable_debug = true
                sandbox_cgroup_only = true
                """);
        KataConfig config = KataConfigLoader.load(file);
        assertThat(config.source()).isEqualTo(file);
        assertThat(config.hypervisor()).isEqualTo(new HypervisorSettings.Qemu(Path.of("/usr/bin/qemu-system-x86_64"),
                Path.of("/opt/kata/vmlinuz"), Path.of("/opt/kata/initramfs.img"), null, "virtio-pmem", "ext4", "q35", 2, 1024,
                HypervisorSettings.SharedFs.VIRTIO_9P, List.of("quiet", "agent.debug=1"), true, "auto", true, true));
        assertThat(config.agent()).isEqualTo(new KataConfig.Agent(Duration.ofSeconds(30), true, KataConfig.Agent.DEFAULT_CREATE_CONTAINER_TIMEOUT));
        assertThat(config.runtime()).isEqualTo(new KataConfig.Runtime(true, true));
    }

    @Test
    void theMetricsRefreshPeriodIsSecondsAndABadOneIsNamed() throws Exception {
        String qemu = "[hypervisor.qemu]\nkernel = \"/k\"\ninitrd = \"/i\"\n";
        assertThat(KataConfigLoader.load(write("refresh-default.toml", qemu)).runtime().metricsRefreshPeriod())
                .isEqualTo(Duration.ofSeconds(5));
        assertThat(KataConfigLoader.load(write("refresh.toml", qemu + "[runtime]\nmetrics_refresh_period = 0.5\n")).runtime()
                .metricsRefreshPeriod()).isEqualTo(Duration.ofMillis(500));
        for (String bad : List.of("0", "-1", "\"5s\"", "7200")) {
            Path file = write("refresh-bad.toml", qemu + "[runtime]\nmetrics_refresh_period = " + bad + "\n");
            assertThatThrownBy(() -> KataConfigLoader.load(file)).as(bad).isInstanceOf(ConfigException.class)
                    .hasMessageContaining("refresh-bad.toml [runtime]: metrics_refresh_period must be a number of seconds");
        }
    }

    @Test
    void createContainerTimeoutIsReadFromEitherUpstreamTableAndABadOneIsNamed() throws Exception {
        String qemu = "[hypervisor.qemu]\nkernel = \"/k\"\ninitrd = \"/i\"\n";
        assertThat(KataConfigLoader.load(write("create-default.toml", qemu)).agent().createContainerTimeout())
                .isEqualTo(Duration.ofSeconds(60));
        assertThat(KataConfigLoader.load(write("create-go.toml", qemu + "[runtime]\ncreate_container_timeout = 300\n"))
                .agent().createContainerTimeout()).isEqualTo(Duration.ofSeconds(300));
        assertThat(KataConfigLoader.load(write("create-rs.toml", qemu + "[agent.kata]\ncreate_container_timeout = 90\n"
                + "[runtime]\ncreate_container_timeout = 300\n")).agent().createContainerTimeout())
                .as("runtime-rs's [agent.kata] wins over the Go runtime's [runtime]").isEqualTo(Duration.ofSeconds(90));
        for (String bad : List.of("0", "-5", "\"60s\"", "86400")) {
            Path file = write("create-bad.toml", qemu + "[runtime]\ncreate_container_timeout = " + bad + "\n");
            assertThatThrownBy(() -> KataConfigLoader.load(file)).as(bad).isInstanceOf(ConfigException.class)
                    .hasMessageContaining("create-bad.toml [runtime]: create_container_timeout must be a number of seconds");
        }
    }

    @Test
    void theAgentsDebugUnderUpstreamsKeyEnableDebug() throws Exception {
        Path file = write("agent-debug.toml", """
                [hypervisor.qemu]
                kernel = "/opt/kata/vmlinuz"
                initrd = "/opt/kata/initramfs.img"

                [agent.kata]
                enable_debug = true
                """);
        assertThat(KataConfigLoader.load(file).agent().debug()).isTrue();
        assertThat(KataConfigLoader.load(write("quiet.toml", "[hypervisor.qemu]\nkernel = \"/k\"\ninitrd = \"/i\"\n")).agent().debug()).isFalse();
    }

    @Test
    void theNoVmSandboxOnlyWhenAFileNamesIt() throws Exception {
        Path file = write("none.toml", """
                [hypervisor.none]
                agent = "/opt/kata/bin/kata-guest-agent --debug"
                """);
        assertThat(KataConfigLoader.load(file).hypervisor())
                .isEqualTo(new HypervisorSettings.None(List.of("/opt/kata/bin/kata-guest-agent", "--debug")));
    }

    @Test
    void aSyntaxErrorGivesFileAndLine() throws Exception {
        Path file = write("broken.toml", """
                [hypervisor.qemu]
                kernel = "/opt/kata/vmlinuz"
                default_vcpus = = 2
                """);
        assertThatThrownBy(() -> KataConfigLoader.load(file))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("syntax error in " + file + ":3:");
    }

    @Test
    void anUnknownHypervisorIsNamed() throws Exception {
        Path file = write("fc.toml", "[hypervisor.firecracker]\nkernel = \"/k\"\n");
        assertThatThrownBy(() -> KataConfigLoader.load(file))
                .hasMessageContaining("unknown hypervisor name \"firecracker\"").hasMessageContaining(file.toString());
    }

    @Test
    void aRootImageWithItsDriverAndFilesystemAndABadOneIsNamed() throws Exception {
        var qemu = (HypervisorSettings.Qemu) KataConfigLoader.load(write("image.toml", """
                [hypervisor.qemu]
                kernel = "/k"
                image = "/opt/kata/root.img"
                initrd = "/opt/kata/boot-initramfs.img"
                vm_rootfs_driver = "virtio-blk-pci"
                rootfs_type = "erofs"
                """)).hypervisor();
        assertThat(qemu.image()).isEqualTo(Path.of("/opt/kata/root.img"));
        assertThat(qemu.initrd()).isEqualTo(Path.of("/opt/kata/boot-initramfs.img"));
        assertThat(qemu.vmRootfsDriver()).isEqualTo("virtio-blk-pci");
        assertThat(qemu.rootfsType()).isEqualTo("erofs");
        var defaults = (HypervisorSettings.Qemu) KataConfigLoader.load(write("image-defaults.toml",
                "[hypervisor.qemu]\nkernel = \"/k\"\nimage = \"/i.img\"\n")).hypervisor();
        assertThat(defaults.vmRootfsDriver()).as("upstream runtime-rs's default").isEqualTo("virtio-pmem");
        assertThat(defaults.rootfsType()).isEqualTo("ext4");
        String base = "[hypervisor.qemu]\nkernel = \"/k\"\nimage = \"/i.img\"\n";
        assertThatThrownBy(() -> KataConfigLoader.load(write("bad-driver.toml", base + "vm_rootfs_driver = \"nvdimm\"\n")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("bad-driver.toml [hypervisor.qemu]")
                .hasMessageContaining("vm_rootfs_driver = \"nvdimm\" is not one of virtio-pmem, virtio-blk-pci");
        assertThatThrownBy(() -> KataConfigLoader.load(write("bad-fs.toml", base + "rootfs_type = \"btrfs\"\n")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("rootfs_type = \"btrfs\" is not one of ext4, xfs, erofs");
    }

    @Test
    void missingOrBadValuesAreNamed() throws Exception {
        assertThatThrownBy(() -> KataConfigLoader.load(write("a.toml", "[hypervisor.qemu]\ninitrd = \"/i\"\n")))
                .hasMessageContaining("[hypervisor.qemu]: kernel is required");
        assertThatThrownBy(() -> KataConfigLoader.load(write("b.toml", "[hypervisor.qemu]\nkernel = \"/k\"\n")))
                .hasMessageContaining("needs initrd or image");
        assertThatThrownBy(() -> KataConfigLoader.load(write("c.toml", "[hypervisor.qemu]\nkernel = \"/k\"\ninitrd = \"/i\"\ndefault_vcpus = 0\n")))
                .hasMessageContaining("default_vcpus must be a positive number");
        assertThatThrownBy(() -> KataConfigLoader.load(write("d.toml", "[hypervisor.qemu]\nkernel = \"/k\"\ninitrd = \"/i\"\nshared_fs = \"nfs\"\n")))
                .hasMessageContaining("shared_fs = \"nfs\"");
        assertThatThrownBy(() -> KataConfigLoader.load(write("e.toml", "[agent.kata]\ndebug = true\n")))
                .hasMessageContaining("exactly one [hypervisor.<name>] section, found none");
        assertThatThrownBy(() -> KataConfigLoader.load(dir.resolve("absent.toml")))
                .hasMessageContaining("absent.toml does not exist");
    }

    @Test
    void runtimeOptionWinsOverTheEnvironment() throws Exception {
        Path fromOptions = write("options.toml", "");
        Path fromEnv = write("env.toml", "");
        assertThat(KataConfigLoader.locate(Optional.of(fromOptions), fromEnv.toString())).isEqualTo(fromOptions);
        assertThat(KataConfigLoader.locate(Optional.empty(), fromEnv.toString())).isEqualTo(fromEnv);
    }
}
