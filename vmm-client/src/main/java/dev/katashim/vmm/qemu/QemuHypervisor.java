package dev.katashim.vmm.qemu;

import dev.katashim.ttrpc.transport.Endpoint;
import dev.katashim.vmm.Hypervisor;
import dev.katashim.vmm.HypervisorMetrics;
import dev.katashim.vmm.VmmExit;
import dev.katashim.vmm.qemu.AcceleratorDecision.Source;
import dev.katashim.vmm.qemu.QemuConfig.Accelerator;
import dev.katashim.vmm.qmp.QmpClient;
import dev.katashim.vmm.qmp.QmpEvent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * A sandbox's QEMU: boots the guest from {@link QemuConfig}, picks the accelerator (KVM where it
 * really starts a guest, else TCG, the outcome remembered per host), and controls the VM over QMP.
 * QEMU stays a child of this process (not daemonized), so its exit status, and so the signal that
 * killed it, is known.
 */
public final class QemuHypervisor implements Hypervisor {
    private static final Logger log = LoggerFactory.getLogger(QemuHypervisor.class);
    static final Path KVM_DEVICE = Path.of("/dev/kvm");

    private final QemuConfig config;
    private final AcceleratorMemory memory;
    private final Duration startTimeout;
    private final List<Consumer<QmpEvent>> listeners = new CopyOnWriteArrayList<>();
    private final CompletableFuture<Integer> exited = new CompletableFuture<>();
    private final QemuMetrics metrics;

    private volatile RunningQemu qemu;
    private volatile VmmExit exit;
    private volatile Virtiofsd virtiofsd;
    /** Where its processes go (the sandbox's host cgroup); set by {@link #start}. */
    private Placement placement = Placement.NONE;
    private volatile SandboxFiles files;
    private volatile AgentChannel channel;
    private volatile AcceleratorDecision decision;

    /** With the per-host accelerator record at {@link AcceleratorMemory#DEFAULT_DIR} and a 30 s start timeout. */
    public QemuHypervisor(QemuConfig config) {
        this(config, AcceleratorMemory.atDefaultLocation(), Duration.ofSeconds(30));
    }

    public QemuHypervisor(QemuConfig config, AcceleratorMemory memory, Duration startTimeout) {
        this.config = config;
        this.memory = memory;
        this.startTimeout = startTimeout;
        this.metrics = new QemuMetrics(() -> Optional.ofNullable(qemu), () -> Optional.ofNullable(exit));
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
    public void start(Path sandboxDir, Placement placement) throws IOException {
        if (qemu != null) {
            throw new IllegalStateException("QEMU already started for " + files.dir());
        }
        QemuPreflight.check(config);
        this.placement = placement;
        Files.createDirectories(sandboxDir);
        files = new SandboxFiles(sandboxDir);
        channel = AgentChannel.forHost(files);
        long begin = System.nanoTime();
        AcceleratorDecision planned = plan();
        RunningQemu running = switch (planned.accelerator()) {
            case TCG -> {
                decision = planned;
                yield launch(Accelerator.TCG);
            }
            case KVM -> switch (tryKvm()) {
                case KvmAttempt.Started(RunningQemu q) -> {
                    decision = planned.source() == Source.PROBED
                            ? new AcceleratorDecision(Accelerator.KVM, Source.PROBED, "KVM started the guest") : planned;
                    if (planned.source() == Source.PROBED) {
                        memory.remember(config.qemu(), Accelerator.KVM, "KVM started a guest");
                    }
                    yield q;
                }
                case KvmAttempt.Failed f when planned.source() == Source.CONFIGURED -> throw new QemuStartException(
                        "QEMU " + config.qemu() + " failed to start a guest with the configured accelerator kvm: " + f.reason()
                                + "; its output (" + files.qemuLog() + "):\n" + f.output(), f.exit(), f.output());
                case KvmAttempt.Failed f -> fallBackToTcg(f.reason());
            };
            case AUTO -> throw new IllegalStateException("plan() resolves AUTO");
        };
        qemu = running;
        if (placement.launchPrefix().isEmpty()) {
            placement.adopt().accept(running.process().pid()); // started outside: in from now on
        }
        running.process().onExit().thenAccept(p -> {
            exit = VmmExit.of(p.exitValue());
            log.info("sandbox {}: QEMU pid {} {}", files.dir().getFileName(), p.pid(), exit);
            exited.complete(p.exitValue());
        });
        log.info("sandbox {}: QEMU {} pid {} up in {} ms with {}; agent at {}, console {}",
                files.dir().getFileName(), running.qmp().greeting().version(), running.process().pid(),
                (System.nanoTime() - begin) / 1_000_000, decision, channel.endpoint(), files.consoleLog());
    }

    /** What to launch first: the configured accelerator, the remembered one, TCG without /dev/kvm, or a KVM try. */
    private AcceleratorDecision plan() {
        return switch (config.accelerator()) {
            case KVM -> new AcceleratorDecision(Accelerator.KVM, Source.CONFIGURED, "accelerator = kvm");
            case TCG -> new AcceleratorDecision(Accelerator.TCG, Source.CONFIGURED, "accelerator = tcg");
            case AUTO -> {
                if (!Files.exists(KVM_DEVICE)) {
                    yield new AcceleratorDecision(Accelerator.TCG, Source.NO_KVM_DEVICE, KVM_DEVICE + " does not exist");
                }
                yield memory.recall(config.qemu())
                        .map(r -> new AcceleratorDecision(r.accelerator(), Source.REMEMBERED,
                                r.reason() + " (decided " + r.decidedAt() + ", " + r.file() + ")"))
                        .orElse(new AcceleratorDecision(Accelerator.KVM, Source.PROBED, "trying KVM"));
            }
        };
    }

    /** The outcome of launching QEMU with KVM. */
    private sealed interface KvmAttempt {
        record Started(RunningQemu qemu) implements KvmAttempt {
        }

        record Failed(String reason, String output, Optional<VmmExit> exit) implements KvmAttempt {
        }
    }

    /** Launches with KVM and checks that the vCPUs really run the guest; a failed attempt leaves nothing running. */
    private KvmAttempt tryKvm() throws IOException {
        RunningQemu attempt;
        try {
            attempt = launch(Accelerator.KVM);
        } catch (QemuStartException e) {
            return new KvmAttempt.Failed("QEMU " + e.exit().map(Object::toString).orElse("did not start") + " with -accel kvm: "
                    + e.stderr().strip().replace('\n', ' '), e.stderr(), e.exit());
        }
        Optional<String> problem;
        try {
            problem = KvmProbe.failure(attempt, KvmProbe.DEFAULT_WINDOW);
        } catch (InterruptedException e) {
            attempt.stop(Duration.ZERO);
            closeVirtiofsd();
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted probing KVM");
        }
        if (problem.isEmpty()) {
            return new KvmAttempt.Started(attempt);
        }
        attempt.stop(Duration.ZERO);
        closeVirtiofsd();
        return new KvmAttempt.Failed(problem.get(), ProcessOutput.tail(files.qemuLog()), attempt.exit());
    }

    private RunningQemu fallBackToTcg(String failure) throws IOException {
        log.warn("sandbox {}: KVM cannot start a guest on this host ({}); falling back to TCG, and remembering it in {}",
                files.dir().getFileName(), failure, memory.fileFor(config.qemu()));
        memory.remember(config.qemu(), Accelerator.TCG, failure);
        if (Files.exists(files.qemuLog())) { // keep the failed attempt's output beside the new one
            Files.move(files.qemuLog(), files.dir().resolve("qemu-kvm-attempt.log"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        decision = new AcceleratorDecision(Accelerator.TCG, Source.PROBED, "KVM failed: " + failure);
        return launch(Accelerator.TCG);
    }

    private RunningQemu launch(Accelerator accelerator) throws IOException {
        if (config.sharedFs() == QemuConfig.SharedFs.VIRTIO_FS) {
            virtiofsd = Virtiofsd.start(placement.launchPrefix(), config.virtiofsd(), config.sharedDir().orElseThrow(), files,
                    Duration.ofSeconds(10));
        }
        try {
            return QemuLauncher.launch(placement.launchPrefix(), QemuCommandLine.build(config, files, channel, accelerator), files,
                    startTimeout, this::deliver);
        } catch (IOException | RuntimeException e) {
            closeVirtiofsd();
            throw e;
        }
    }

    private void deliver(QmpEvent event) {
        for (Consumer<QmpEvent> listener : listeners) {
            listener.accept(event);
        }
    }

    /** Receives QEMU's QMP events (SHUTDOWN, STOP, GUEST_PANICKED, ...) from start on; listeners must not block for long. */
    public void addEventListener(Consumer<QmpEvent> listener) {
        listeners.add(listener);
    }

    public void removeEventListener(Consumer<QmpEvent> listener) {
        listeners.remove(listener);
    }

    /** The accelerator the running QEMU uses, and why; null before {@link #start}. */
    public AcceleratorDecision acceleratorDecision() {
        return decision;
    }

    /** The QMP connection of the running QEMU. */
    public Optional<QmpClient> qmp() {
        return Optional.ofNullable(qemu).map(RunningQemu::qmp);
    }

    /** The argv QEMU runs with. */
    public List<String> commandLine() {
        return qemu == null ? List.of() : qemu.argv();
    }

    public QemuConfig config() {
        return config;
    }

    /** How QEMU ended, once it has. */
    public Optional<VmmExit> exit() {
        return Optional.ofNullable(exit);
    }

    @Override
    public Endpoint agentEndpoint() {
        if (channel == null) {
            throw new IllegalStateException("QEMU not started: no agent endpoint yet");
        }
        return channel.endpoint();
    }

    @Override
    public long pid() {
        RunningQemu q = qemu;
        return q == null ? 0 : q.process().pid();
    }

    @Override
    public CompletableFuture<Integer> exited() {
        return exited;
    }

    @Override
    public void stop(Duration grace) {
        RunningQemu q = qemu;
        if (q != null) {
            q.stop(grace);
            exited.join(); // the exit callback has run: exit() and the metrics know how it ended
        }
        closeVirtiofsd();
    }

    @Override
    public HypervisorMetrics metrics() {
        return metrics;
    }

    @Override
    public Optional<Path> consoleLog() {
        return Optional.ofNullable(files).map(SandboxFiles::consoleLog);
    }

    private void closeVirtiofsd() {
        Virtiofsd d = virtiofsd;
        if (d != null) {
            d.close();
            virtiofsd = null;
        }
    }
}
