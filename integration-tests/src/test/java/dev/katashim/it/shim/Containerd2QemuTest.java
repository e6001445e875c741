package dev.katashim.it.shim;

import com.google.protobuf.Any;
import dev.katashim.it.peers.SandboxApiClient;
import dev.katashim.it.peers.TaskApiClient;
import dev.katashim.it.support.BusyboxRootfs;
import dev.katashim.it.support.LinuxProcess;
import dev.katashim.it.support.Mounts;
import dev.katashim.it.support.TempDirs;
import dev.katashim.protocols.containerd.runtime.sandbox.v1.CreateSandboxRequest;
import dev.katashim.protocols.containerd.runtime.sandbox.v1.CreateSandboxResponse;
import dev.katashim.protocols.containerd.runtime.sandbox.v1.PingRequest;
import dev.katashim.protocols.containerd.runtime.sandbox.v1.PingResponse;
import dev.katashim.protocols.containerd.runtime.sandbox.v1.PlatformRequest;
import dev.katashim.protocols.containerd.runtime.sandbox.v1.PlatformResponse;
import dev.katashim.protocols.containerd.runtime.sandbox.v1.SandboxMetricsRequest;
import dev.katashim.protocols.containerd.runtime.sandbox.v1.SandboxMetricsResponse;
import dev.katashim.protocols.containerd.runtime.sandbox.v1.StartSandboxRequest;
import dev.katashim.protocols.containerd.runtime.sandbox.v1.StartSandboxResponse;
import dev.katashim.protocols.containerd.runtime.sandbox.v1.StopSandboxRequest;
import dev.katashim.protocols.containerd.runtime.sandbox.v1.StopSandboxResponse;
import dev.katashim.protocols.containerd.runtime.sandbox.v1.WaitSandboxRequest;
import dev.katashim.protocols.containerd.runtime.sandbox.v1.WaitSandboxResponse;
import dev.katashim.protocols.runtimeoptions.v1.Options;
import dev.katashim.ttrpc.status.StatusCode;
import dev.katashim.ttrpc.status.TtrpcException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A pod in a QEMU VM (TCG here) the way containerd 2.3's shim sandboxer runs one, with
 * {@link Containerd2Driver} standing in for containerd 2.x: BootstrapParams on start's stdin carry
 * the ConfigPath of a QEMU configuration (KATA_CONF_FILE names the no-VM one, so a lost ConfigPath
 * would show), the Sandbox API boots and stops the VM, a container runs in the guest over task v3.
 * One VM for the whole class: it takes ~20 s to boot (minutes on a loaded machine: the agent gets 300 s).
 */
class Containerd2QemuTest {
    private static final String NAMESPACE = "kt-cd2q";
    private static Path dir;
    private static Path repo;
    private static Path rootfs;
    private static Path sandboxRoot;
    private static Containerd2Driver containerd2;
    private static Any qemuOptions;

    @BeforeAll
    static void setUp() throws Exception {
        repo = Path.of("").toAbsolutePath().getParent();
        assertThat(KataConfigs.guestImage(repo).resolve("initramfs.img"))
                .as("the guest image (scripts/setup builds it with scripts/build-guest-image)").exists();
        dir = TempDirs.createShort("ktq");
        rootfs = BusyboxRootfs.create(dir.resolve("rootfs")).path();
        sandboxRoot = dir.resolve("sbs");
        qemuOptions = Any.newBuilder().setTypeUrl("runtimeoptions.v1.Options").setValue(Options.newBuilder()
                .setConfigPath(KataConfigs.qemu(dir, repo, "", 300).toString()).build().toByteString()).build();
        containerd2 = new Containerd2Driver(dir.resolve("c.sock"), NAMESPACE, Map.of(
                "KATA_SHIM_SANDBOX_ROOT", sandboxRoot.toString(), "KATA_CONF_FILE", KataConfigs.noVm(dir).toString()));
    }

    @AfterAll
    static void tearDown() {
        if (dir != null) {
            DriverLeftovers.killAll(dir);
            Mounts.unmountAllBelow(dir); // what a killed shim would have unmounted
            TempDirs.deleteRecursively(dir);
        }
    }

    private static String guestKernelRelease() throws Exception {
        return Files.readAllLines(KataConfigs.guestImage(repo).resolve("manifest")).stream()
                .filter(l -> l.startsWith("kernel_release ")).map(l -> l.substring("kernel_release ".length()).trim())
                .findFirst().orElseThrow();
    }

    @Test
    void aPodInAVmThroughTheSandboxApiAndTaskV3() throws Exception {
        String sandboxId = "vm-" + UUID.randomUUID().toString().substring(0, 8);
        Path sandboxBundle = Files.createDirectories(dir.resolve(sandboxId).resolve("bundle"));
        Containerd2Driver.StartReply reply = containerd2.start(sandboxBundle, sandboxId, Containerd2Driver.Release.V2_3,
                Optional.of(qemuOptions), Optional.of(dir.resolve("s")), false);
        assertThat(reply.version()).isEqualTo(3);
        try (SandboxApiClient sandbox = SandboxApiClient.connect(reply.socket(), NAMESPACE);
             TaskApiClient tasks = TaskApiClient.connect(reply.socket(), NAMESPACE, reply.version(), Duration.ofMinutes(2))) {
            sandbox.call("CreateSandbox", CreateSandboxRequest.newBuilder().setSandboxId(sandboxId)
                    .setBundlePath(sandboxBundle.toString()).setOptions(Containerd2NoVmTest.podSandboxConfig("kt-vm")).build(),
                    CreateSandboxResponse.parser());
            StartSandboxResponse started = sandbox.call("StartSandbox", StartSandboxRequest.newBuilder().setSandboxId(sandboxId).build(),
                    StartSandboxResponse.parser(), Duration.ofMinutes(6));
            assertThat(LinuxProcess.read(started.getPid())).as("the sandbox's pid is QEMU's: the ConfigPath was used")
                    .hasValueSatisfying(p -> assertThat(p.commandLine()).contains("qemu-system"));
            assertThat(Containerd2NoVmTest.status(sandbox, sandboxId).getState()).isEqualTo("SANDBOX_READY");
            sandbox.call("PingSandbox", PingRequest.newBuilder().setSandboxId(sandboxId).build(), PingResponse.parser());
            PlatformResponse platform = sandbox.call("Platform", PlatformRequest.newBuilder().setSandboxId(sandboxId).build(),
                    PlatformResponse.parser());
            assertThat(platform.getPlatform().getOs() + "/" + platform.getPlatform().getArchitecture()).isEqualTo("linux/amd64");

            String app = "app-" + UUID.randomUUID().toString().substring(0, 6);
            Path appBundle = OciBundles.create(dir.resolve(app), rootfs, Map.of("io.kubernetes.cri.container-type", "container",
                    "io.kubernetes.cri.sandbox-id", sandboxId), "/bin/sh", "-c",
                    "[ \"$(uname -r)\" = \"" + guestKernelRelease() + "\" ] && exit 3; exit 4");
            Containerd2NoVmTest.runToExit(tasks, app, appBundle, qemuOptions, 3); // 3: it ran in the guest's kernel
            Containerd2NoVmTest.delete(tasks, app, 3);
            // the real agent knows no container named after the sandbox: a clear UNIMPLEMENTED, not made-up stats
            assertThatThrownBy(() -> sandbox.call("SandboxMetrics", SandboxMetricsRequest.newBuilder().setSandboxId(sandboxId).build(),
                    SandboxMetricsResponse.parser())).isInstanceOfSatisfying(TtrpcException.class,
                    e -> assertThat(e.code()).isEqualTo(StatusCode.UNIMPLEMENTED));

            CompletableFuture<WaitSandboxResponse> waiting = CompletableFuture.supplyAsync(() -> {
                try {
                    return sandbox.call("WaitSandbox", WaitSandboxRequest.newBuilder().setSandboxId(sandboxId).build(),
                            WaitSandboxResponse.parser(), Duration.ofMinutes(2));
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            sandbox.call("StopSandbox", StopSandboxRequest.newBuilder().setSandboxId(sandboxId).build(), StopSandboxResponse.parser(),
                    Duration.ofMinutes(1));
            assertThat(waiting.get(60, TimeUnit.SECONDS).getExitStatus()).isZero();
            assertThat(LinuxProcess.read(started.getPid())).as("QEMU is gone").isEmpty();
            assertThat(Containerd2NoVmTest.status(sandbox, sandboxId).getState()).isEqualTo("SANDBOX_NOTREADY");
            Containerd2NoVmTest.shutdownSandbox(sandbox, sandboxId);
        }
        assertThat(containerd2.delete(sandboxBundle, sandboxId).getExitStatus()).isEqualTo(137);
        DriverLeftovers.assertNone(dir, reply.socket(), sandboxRoot.resolve(sandboxId));
    }
}
