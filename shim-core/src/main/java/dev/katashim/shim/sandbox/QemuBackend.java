package dev.katashim.shim.sandbox;

import dev.katashim.metrics.HypervisorCounters;
import dev.katashim.metrics.HypervisorMetricsSource;
import dev.katashim.shim.config.HypervisorSettings;
import dev.katashim.shim.sys.HostCommand;
import dev.katashim.ttrpc.transport.Endpoint;
import dev.katashim.vmm.FatalSignals;
import dev.katashim.vmm.HypervisorMetrics;
import dev.katashim.vmm.VcpuCounter;
import dev.katashim.vmm.qemu.QemuConfig;
import dev.katashim.vmm.qemu.QemuHypervisor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;

/**
 * A sandbox in a QEMU VM (vmm-client's {@link QemuHypervisor}), seen by the shim: QEMU joins the
 * sandbox's host cgroup once started; containers' root filesystems reach the guest through the
 * sandbox's 9p (or virtio-fs) share, bind-mounted under {@code <sandbox dir>/shared/<id>/rootfs}
 * and mounted by the guest at {@link #GUEST_SHARED}.
 */
final class QemuBackend implements Hypervisor {
    private static final Logger log = LoggerFactory.getLogger(QemuBackend.class);
    /** Where the guest's init mounts the share (scripts/guest-image/init). */
    static final Path GUEST_SHARED = Path.of("/run/kata-containers/shared/containers");

    private final HypervisorSettings.Qemu settings;
    private QemuHypervisor qemu;
    private Path shared;

    QemuBackend(HypervisorSettings.Qemu settings) {
        this.settings = settings;
    }

    @Override
    public String kind() {
        return "qemu";
    }

    @Override
    public boolean isolated() {
        return true;
    }

    @Override
    public void start(SandboxDirectory dir, Placement placement) throws IOException {
        shared = Files.createDirectories(dir.resolve("shared"));
        QemuConfig.GuestRoot root = settings.initrd() != null ? new QemuConfig.GuestRoot.Initrd(settings.initrd())
                : new QemuConfig.GuestRoot.Image(settings.image());
        QemuConfig config = QemuConfig.of(settings.kernel(), root)
                .withQemu(settings.path())
                .withMachineType(settings.machineType())
                .withVcpus(settings.defaultVcpus())
                .withMemoryMiB(settings.defaultMemoryMiB())
                .withKernelParams(settings.kernelParams())
                .withSharedFs(switch (settings.sharedFs()) {
                    case VIRTIO_9P -> QemuConfig.SharedFs.NINE_P;
                    case VIRTIO_FS -> QemuConfig.SharedFs.VIRTIO_FS;
                    case NONE -> QemuConfig.SharedFs.NONE;
                }, shared)
                .withAccelerator(QemuConfig.Accelerator.parse(settings.accelerator()))
                .withDebug(settings.enableDebug());
        qemu = new QemuHypervisor(config);
        qemu.start(dir.path());
        Files.writeString(dir.pidFile(), Long.toString(qemu.pid())); // for `delete` after a dead shim
        placement.adopt().accept(qemu.pid());
        log.info("sandbox {}: QEMU pid {}, agent on {}", dir.path().getFileName(), qemu.pid(), qemu.agentEndpoint());
    }

    @Override
    public Endpoint agentEndpoint() {
        return qemu.agentEndpoint();
    }

    @Override
    public long pid() {
        return qemu == null ? 0 : qemu.pid();
    }

    @Override
    public CompletableFuture<Integer> exited() {
        return qemu.exited();
    }

    @Override
    public void stop(Duration grace) {
        if (qemu != null) {
            qemu.stop(grace);
        }
    }

    @Override
    public Optional<Path> consoleLog() {
        return qemu == null ? Optional.empty() : qemu.consoleLog();
    }

    @Override
    public HypervisorMetricsSource metricsSource() {
        return () -> counters(qemu.metrics());
    }

    /** vmm-client's counters in shim-metrics' terms: what QEMU does not count stays absent. */
    static HypervisorCounters counters(HypervisorMetrics metrics) throws IOException {
        List<HypervisorCounters.Vcpu> vcpus = new ArrayList<>();
        for (VcpuCounter counter : metrics.vcpu()) {
            vcpus.add(new HypervisorCounters.Vcpu(counter.cpuId(),
                    HypervisorCounters.VcpuItem.valueOf(counter.item().name()), counter.value()));
        }
        FatalSignals signals = metrics.fatalSignals();
        return new HypervisorCounters(vcpus, OptionalLong.of(signals.seccompFaults()),
                OptionalLong.of(signals.sigbus()), OptionalLong.of(signals.sigsegv()));
    }

    @Override
    public Path shareRootfs(String containerId, Path hostRootfs) throws IOException {
        Path target = Files.createDirectories(shared.resolve(containerId).resolve("rootfs"));
        HostCommand.run(List.of("mount", "--bind", hostRootfs.toString(), target.toString()), Duration.ofSeconds(30),
                "share " + hostRootfs + " with the guest");
        return GUEST_SHARED.resolve(containerId).resolve("rootfs");
    }

    @Override
    public void unshareRootfs(String containerId) {
        Path target = shared.resolve(containerId).resolve("rootfs");
        try {
            HostCommand.run(List.of("umount", "-l", target.toString()), Duration.ofSeconds(30), "unshare " + target);
            Files.deleteIfExists(target);
            Files.deleteIfExists(target.getParent());
        } catch (IOException e) {
            log.warn("{}", e.getMessage());
        }
    }
}
