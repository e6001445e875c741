package dev.katashim.agent.guest;

import dev.katashim.agent.guest.support.AgentFixture;
import dev.katashim.agent.guest.support.Specs;
import dev.katashim.agent.guest.support.TestRootfs;
import dev.katashim.protocols.kata.agent.CheckRequest;
import dev.katashim.protocols.kata.agent.CreateContainerRequest;
import dev.katashim.protocols.kata.agent.CreateSandboxRequest;
import dev.katashim.protocols.kata.agent.Storage;
import dev.katashim.protocols.kata.agent.HealthCheckResponse;
import dev.katashim.protocols.kata.agent.StartContainerRequest;
import dev.katashim.ttrpc.client.CallOptions;
import dev.katashim.ttrpc.client.TtrpcClient;
import dev.katashim.ttrpc.transport.Endpoint;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** The agent as a program: its flags, and SIGTERM taking every container down with it. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class GuestAgentMainTest {
    private Path dir;
    private Process agent;

    @BeforeEach
    void makeDir() throws Exception {
        dir = Files.createTempDirectory(Path.of("/tmp"), "kgm");
    }

    @AfterEach
    void cleanUp() throws Exception {
        if (agent != null && agent.isAlive()) {
            agent.destroyForcibly();
            agent.waitFor();
        }
        AgentFixture.deleteTree(dir);
    }

    @Test
    void flags() {
        AgentOptions vm = GuestAgentMain.parse(new String[0]);
        assertThat(vm.listen()).containsExactly(new Endpoint.Vsock(-1, 1024));
        assertThat(vm.hostMode()).isFalse();
        assertThat(vm.stateDir()).isEqualTo(Path.of("/run/kata-agent"));
        assertThat(vm.sharedDir()).isEqualTo(Path.of("/run/kata-containers/shared/containers"));

        AgentOptions host = GuestAgentMain.parse(new String[]{"--host-mode", "--listen", "unix:///tmp/a.sock",
                "--listen", "vsock://-1:2048", "--state-dir", "/tmp/st", "--cgroup-parent", "/x"});
        assertThat(host.listen()).containsExactly(new Endpoint.UnixPath(Path.of("/tmp/a.sock")), new Endpoint.Vsock(-1, 2048));
        assertThat(host.sharedDir()).isEqualTo(Path.of("/tmp/st/shared/containers"));
        assertThat(host.cgroupParent()).isEqualTo("/x");

        assertThatThrownBy(() -> GuestAgentMain.parse(new String[]{"--host-mode"})).hasMessageContaining("--host-mode needs --listen");
        assertThatThrownBy(() -> GuestAgentMain.parse(new String[]{"--listen"})).hasMessageContaining("--listen needs a value");
        assertThatThrownBy(() -> GuestAgentMain.parse(new String[]{"--bogus"})).hasMessageContaining("unknown argument --bogus");
    }

    @Test
    void sigtermStopsTheAgentAndEveryContainerWithIt() throws Exception {
        Path rootfs = TestRootfs.create(dir.resolve("rootfs"));
        Path socket = dir.resolve("agent.sock");
        Path state = dir.resolve("state");
        String cgroupParent = "/kata-agent-main-" + UUID.randomUUID().toString().substring(0, 8);
        agent = startAgent(socket, state, cgroupParent);
        assertThat(log()).contains("HOST MODE", "NO VM isolation");

        try (TtrpcClient client = TtrpcClient.connect(new Endpoint.UnixPath(socket))) {
            assertThat(client.blockingCall("grpc.Health", "Check", CheckRequest.getDefaultInstance(), HealthCheckResponse.parser(),
                    CallOptions.DEFAULT).getStatus()).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
            client.blockingCall(AgentFixture.SERVICE, "CreateContainer", CreateContainerRequest.newBuilder().setContainerId("c")
                    .setOCI(Specs.busybox(rootfs, "sleep", "300")).build(), com.google.protobuf.Empty.parser(), CallOptions.DEFAULT);
            client.blockingCall(AgentFixture.SERVICE, "StartContainer", StartContainerRequest.newBuilder().setContainerId("c").build(),
                    com.google.protobuf.Empty.parser(), CallOptions.DEFAULT);
        }
        assertThat(AgentFixture.processesMentioning(state.toString())).isNotEmpty();

        agent.destroy(); // SIGTERM
        assertThat(agent.waitFor(20, TimeUnit.SECONDS)).as("agent log: %s", log()).isTrue();

        assertThat(AgentFixture.processesMentioning(state.toString())).as("runc processes").isEmpty();
        Process list = new ProcessBuilder(AgentOptions.findRunc().toString(), "--root", state.resolve("runc").toString(), "list", "-q").start();
        assertThat(new String(list.getInputStream().readAllBytes()).strip()).as("runc containers").isEmpty();
        list.waitFor();
        for (String hierarchy : List.of("memory", "pids", "cpu", "freezer", "unified")) {
            assertThat(Path.of("/sys/fs/cgroup", hierarchy, cgroupParent.substring(1))).doesNotExist();
        }
        assertThat(log()).contains("kata guest agent stopped");
    }

    @Test
    void whatAKilledAgentLeftMountedTheNextOneUnmounts() throws Exception {
        Path socket = dir.resolve("agent.sock");
        Path state = dir.resolve("state");
        String cgroupParent = "/kata-agent-main-" + UUID.randomUUID().toString().substring(0, 8);
        agent = startAgent(socket, state, cgroupParent);
        Storage shm = Storage.newBuilder().setDriver("ephemeral").setSource("shm").setFstype("tmpfs")
                .setMountPoint("/run/kata-containers/sandbox/shm").addOptions("size=1048576").build();
        try (TtrpcClient client = TtrpcClient.connect(new Endpoint.UnixPath(socket))) {
            client.blockingCall(AgentFixture.SERVICE, "CreateSandbox", CreateSandboxRequest.newBuilder().setSandboxId("sb")
                    .setHostname("pod").addStorages(shm).build(), com.google.protobuf.Empty.parser(), CallOptions.DEFAULT);
        }
        assertThat(AgentFixture.mountsUnder(state)).as("the shm and the sandbox's two namespaces").hasSize(3);
        agent.destroyForcibly();
        agent.waitFor();
        Files.delete(socket);
        assertThat(AgentFixture.mountsUnder(state)).hasSize(3);

        agent = startAgent(socket, state, cgroupParent);
        assertThat(AgentFixture.mountsUnder(state)).as("agent log: %s", log()).isEmpty();
        agent.destroy();
        assertThat(agent.waitFor(20, TimeUnit.SECONDS)).isTrue();
    }

    private Process startAgent(Path socket, Path state, String cgroupParent) throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process started = new ProcessBuilder(java.toString(), "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
                "-Dlogback.configurationFile=" + Path.of("src/main/config/logback.xml").toAbsolutePath(),
                "-cp", System.getProperty("java.class.path"), GuestAgentMain.class.getName(),
                "--host-mode", "--listen", "unix://" + socket, "--state-dir", state.toString(), "--cgroup-parent", cgroupParent)
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("agent.log").toFile())).start();
        await().atMost(Duration.ofSeconds(20)).until(() -> Files.exists(socket) || !started.isAlive());
        assertThat(started.isAlive()).as("agent log: %s", log()).isTrue();
        return started;
    }

    private String log() throws Exception {
        Path log = dir.resolve("agent.log");
        return Files.exists(log) ? Files.readString(log) : "";
    }
}
