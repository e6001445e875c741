package dev.katashim.shim.sandbox;

import dev.katashim.shim.config.HypervisorSettings;
import dev.katashim.shim.config.KataConfig;
import dev.katashim.vmm.Hypervisor;
import dev.katashim.vmm.none.HostAgentHypervisor;
import dev.katashim.vmm.qemu.QemuConfig;
import dev.katashim.vmm.qemu.QemuHypervisor;

import java.util.List;

/** The hypervisor a configuration file asks for, set up for one sandbox directory. */
final class Hypervisors {
    private Hypervisors() {
    }

    /** @param defaultAgentCommand the host agent's command when {@code [hypervisor.none]} names none */
    static Hypervisor create(KataConfig config, List<String> defaultAgentCommand, SandboxDirectory directory) {
        return switch (config.hypervisor()) {
            case HypervisorSettings.None none -> new HostAgentHypervisor(
                    none.agentCommand().isEmpty() ? defaultAgentCommand : none.agentCommand());
            case HypervisorSettings.Qemu qemu -> new QemuHypervisor(qemuConfig(qemu, directory));
        };
    }

    /** {@code [hypervisor.qemu]} in vmm-client's terms; the guest's share is the sandbox's shared directory. */
    private static QemuConfig qemuConfig(HypervisorSettings.Qemu settings, SandboxDirectory directory) {
        QemuConfig.GuestRoot root = settings.initrd() != null ? new QemuConfig.GuestRoot.Initrd(settings.initrd())
                : new QemuConfig.GuestRoot.Image(settings.image());
        return QemuConfig.of(settings.kernel(), root)
                .withQemu(settings.path())
                .withMachineType(settings.machineType())
                .withVcpus(settings.defaultVcpus())
                .withMemoryMiB(settings.defaultMemoryMiB())
                .withKernelParams(settings.kernelParams())
                .withSharedFs(switch (settings.sharedFs()) {
                    case VIRTIO_9P -> QemuConfig.SharedFs.NINE_P;
                    case VIRTIO_FS -> QemuConfig.SharedFs.VIRTIO_FS;
                    case NONE -> QemuConfig.SharedFs.NONE;
                }, directory.sharedDir())
                .withAccelerator(QemuConfig.Accelerator.parse(settings.accelerator()))
                .withDebug(settings.enableDebug());
    }
}
