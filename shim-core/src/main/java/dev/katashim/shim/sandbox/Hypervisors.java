package dev.katashim.shim.sandbox;

import dev.katashim.shim.config.ConfigException;
import dev.katashim.shim.config.HypervisorSettings;
import dev.katashim.shim.config.KataConfig;
import dev.katashim.vmm.Hypervisor;
import dev.katashim.vmm.none.HostAgentHypervisor;
import dev.katashim.vmm.qemu.QemuConfig;
import dev.katashim.vmm.qemu.QemuHypervisor;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** The hypervisor a configuration file asks for, set up for one sandbox directory. */
final class Hypervisors {
    private Hypervisors() {
    }

    /** @param defaultAgentCommand the host agent's command when {@code [hypervisor.none]} names none */
    static Hypervisor create(KataConfig config, List<String> defaultAgentCommand, SandboxDirectory directory) {
        return switch (config.hypervisor()) {
            case HypervisorSettings.None none -> new HostAgentHypervisor(
                    none.agentCommand().isEmpty() ? defaultAgentCommand : none.agentCommand());
            case HypervisorSettings.Qemu qemu -> {
                if (qemu.sharedFs() == HypervisorSettings.SharedFs.NONE) {
                    throw new ConfigException(config.source() + " [hypervisor.qemu]: shared_fs = \"none\" cannot run containers: their "
                            + "root filesystems and volumes reach the guest only through a shared file system (this shim "
                            + "hot-plugs no block devices); use shared_fs = \"virtio-9p\" or \"virtio-fs\"");
                }
                yield new QemuHypervisor(qemuConfig(qemu, config.agent().debug(), directory));
            }
        };
    }

    /** The kernel parameter the guest's /init reads to run the agent at debug level, as upstream's. */
    static final String AGENT_DEBUG_PARAM = "agent.log=debug";

    /**
     * {@code [hypervisor.qemu]} in vmm-client's terms; the guest's share is the sandbox's shared
     * directory; {@code agentDebug} adds {@link #AGENT_DEBUG_PARAM} before the configured
     * kernel_params (which may still override it).
     */
    static QemuConfig qemuConfig(HypervisorSettings.Qemu settings, boolean agentDebug, SandboxDirectory directory) {
        List<String> kernelParams = new ArrayList<>();
        if (agentDebug) {
            kernelParams.add(AGENT_DEBUG_PARAM);
        }
        kernelParams.addAll(settings.kernelParams());
        // an image is the root; an initrd beside it only mounts it
        QemuConfig.GuestRoot root = settings.image() == null ? new QemuConfig.GuestRoot.Initrd(settings.initrd())
                : new QemuConfig.GuestRoot.Image(settings.image(), QemuConfig.ImageDevice.parse(settings.vmRootfsDriver()),
                        settings.rootfsType(), Optional.ofNullable(settings.initrd()));
        return QemuConfig.of(settings.kernel(), root)
                .withQemu(settings.path())
                .withMachineType(settings.machineType())
                .withVcpus(settings.defaultVcpus())
                .withMemoryMiB(settings.defaultMemoryMiB())
                .withKernelParams(kernelParams)
                .withSharedFs(switch (settings.sharedFs()) {
                    case VIRTIO_9P -> QemuConfig.SharedFs.NINE_P;
                    case VIRTIO_FS -> QemuConfig.SharedFs.VIRTIO_FS;
                    case NONE -> QemuConfig.SharedFs.NONE;
                }, directory.sharedDir())
                .withAccelerator(QemuConfig.Accelerator.parse(settings.accelerator()))
                .withDebug(settings.enableDebug())
                .withReclaimGuestFreedMemory(settings.reclaimGuestFreedMemory());
    }
}
