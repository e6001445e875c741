package dev.katashim.shim.sandbox;

import dev.katashim.shim.config.ConfigException;
import dev.katashim.shim.config.HypervisorSettings;
import dev.katashim.shim.config.KataConfig;
import dev.katashim.shim.config.KataConfigLoader;
import dev.katashim.vmm.qemu.QemuConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class HypervisorsTest {
    @TempDir
    Path dir;

    private KataConfig config(String qemu, String agent) throws Exception {
        return KataConfigLoader.load(Files.writeString(dir.resolve("c.toml"),
                "[hypervisor.qemu]\nkernel = \"/k\"\ninitrd = \"/i\"\n" + qemu + "\n[agent.kata]\n" + agent + "\n"));
    }

    @Test
    void theAgentsDebugReachesTheGuestAsAKernelParameterBeforeTheConfiguredOnes() throws Exception {
        KataConfig kata = config("kernel_params = \"agent.heap=128m\"", "enable_debug = true");
        var settings = (dev.katashim.shim.config.HypervisorSettings.Qemu) kata.hypervisor();
        assertThat(Hypervisors.qemuConfig(settings, true, SandboxDirectory.of(dir, "sb")).kernelParams())
                .containsExactly(Hypervisors.AGENT_DEBUG_PARAM, "agent.heap=128m");
        assertThat(Hypervisors.qemuConfig(settings, false, SandboxDirectory.of(dir, "sb")).kernelParams())
                .containsExactly("agent.heap=128m");
    }

    @Test
    void anImageIsTheRootAndAnInitrdBesideItTheInitramfsThatMountsIt() throws Exception {
        KataConfig kata = config("image = \"/root.img\"\nvm_rootfs_driver = \"virtio-pmem\"", "");
        var settings = (HypervisorSettings.Qemu) kata.hypervisor();
        assertThat(Hypervisors.qemuConfig(settings, false, SandboxDirectory.of(dir, "sb")).root())
                .isEqualTo(new QemuConfig.GuestRoot.Image(Path.of("/root.img"), QemuConfig.ImageDevice.VIRTIO_PMEM, "ext4",
                        Optional.of(Path.of("/i"))));
        var initrdOnly = (HypervisorSettings.Qemu) config("", "").hypervisor();
        assertThat(Hypervisors.qemuConfig(initrdOnly, false, SandboxDirectory.of(dir, "sb")).root())
                .isEqualTo(new QemuConfig.GuestRoot.Initrd(Path.of("/i")));
    }

    @Test
    void sharedFsNoneIsRefusedSayingWhy() throws Exception {
        KataConfig kata = config("shared_fs = \"none\"", "");
        assertThatThrownBy(() -> Hypervisors.create(kata, List.of(), SandboxDirectory.of(dir, "sb")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining(dir.resolve("c.toml").toString())
                .hasMessageContaining("shared_fs = \"none\"")
                .hasMessageContaining("only through a shared file system")
                .hasMessageContaining("virtio-9p");
    }
}
