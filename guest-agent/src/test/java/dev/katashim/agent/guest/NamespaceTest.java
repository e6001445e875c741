package dev.katashim.agent.guest;

import dev.katashim.agent.guest.support.AgentFixture;
import dev.katashim.agent.guest.support.Specs;
import dev.katashim.protocols.kata.agent.CreateContainerRequest;
import dev.katashim.protocols.kata.agent.CreateSandboxRequest;
import dev.katashim.protocols.kata.agent.DestroySandboxRequest;
import dev.katashim.protocols.kata.agent.StartContainerRequest;
import dev.katashim.ttrpc.status.StatusCode;
import dev.katashim.ttrpc.status.TtrpcException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The sandbox's namespaces, as upstream's agent makes them: IPC and UTS shared by every container
 * (the hostname from CreateSandbox), the pid namespace new or, with sandbox_pidns, the first
 * container's.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class NamespaceTest {
    private static final String NAMESPACES = "echo $(hostname) $(readlink /proc/self/ns/ipc) $(readlink /proc/self/ns/uts) $(readlink /proc/self/ns/pid)";
    private static AgentFixture agent;

    @BeforeAll
    static void startAgent() throws Exception {
        agent = AgentFixture.start();
    }

    @AfterEach
    void noLeftovers() throws Exception {
        agent.cleanUp();
        assertThat(AgentFixture.mountsUnder(agent.stateDir.resolve("sandbox-ns"))).isEmpty();
    }

    @AfterAll
    static void stopAgent() throws Exception {
        if (agent != null) {
            agent.close();
        }
    }

    private static void create(String id, boolean sandboxPidns, String... args) throws InterruptedException {
        agent.call("CreateContainer", CreateContainerRequest.newBuilder().setContainerId(id).setExecId(id)
                .setSandboxPidns(sandboxPidns).setOCI(Specs.busybox(agent.rootfs, args)).build());
    }

    private static void start(String id) throws InterruptedException {
        agent.call("StartContainer", StartContainerRequest.newBuilder().setContainerId(id).build());
    }

    private static String[] namespacesOf(String id, boolean sandboxPidns) throws InterruptedException {
        create(id, sandboxPidns, "sh", "-c", NAMESPACES);
        start(id);
        String out = agent.readAll("ReadStdout", id, id).strip();
        assertThat(agent.await(id, id)).isZero();
        return out.split(" ");
    }

    @Test
    void containersOfASandboxShareItsHostnameIpcAndUts() throws Exception {
        agent.call("CreateSandbox", CreateSandboxRequest.newBuilder().setSandboxId("pod").setHostname("pod-host").build());
        create("pause", false, "sleep", "300"); // the spec says hostname "busybox": the sandbox's wins
        start("pause");
        agent.exec("pause", "look", Specs.process("sh", "-c", NAMESPACES));
        String[] pause = agent.readAll("ReadStdout", "pause", "look").strip().split(" ");
        String[] first = namespacesOf("first", false);
        String[] second = namespacesOf("second", false);

        assertThat(first[0]).isEqualTo("pod-host");
        assertThat(second[0]).isEqualTo("pod-host");
        assertThat(second[1]).as("ipc").isEqualTo(first[1]).isNotEqualTo(Files.readSymbolicLink(Path.of("/proc/self/ns/ipc")).toString());
        assertThat(second[2]).as("uts").isEqualTo(first[2]).isNotEqualTo(Files.readSymbolicLink(Path.of("/proc/self/ns/uts")).toString());
        assertThat(pause[1]).isEqualTo(first[1]);
        assertThat(pause[2]).isEqualTo(first[2]);
        // (ended namespaces' numbers are reused: compare with one that still runs)
        assertThat(first[3]).as("pid: a new one without sandbox_pidns").isNotEqualTo(pause[3]);
        assertThat(second[3]).as("pid: a new one without sandbox_pidns").isNotEqualTo(pause[3]);

        agent.call("DestroySandbox", DestroySandboxRequest.getDefaultInstance());
        assertThat(AgentFixture.mountsUnder(agent.stateDir.resolve("sandbox-ns"))).isEmpty();
    }

    @Test
    void withSandboxPidnsAContainerSeesTheFirstContainersProcesses() throws Exception {
        agent.call("CreateSandbox", CreateSandboxRequest.newBuilder().setSandboxId("pod").setHostname("pod-host").build());
        create("pause", false, "sleep", "300");
        start("pause");
        create("joiner", true, "sh", "-c", "cat /proc/1/cmdline | tr '\\0' ' '; echo; echo $$; " + NAMESPACES);
        start("joiner");
        String[] lines = agent.readAll("ReadStdout", "joiner", "").split("\n");
        assertThat(lines[0]).as("pid 1 is the first container's init").isEqualTo("sleep 300 ");
        assertThat(Integer.parseInt(lines[1].strip())).as("its own pid").isGreaterThan(1);

        String[] alone = namespacesOf("alone", false);
        assertThat(lines[2].split(" ")[3]).as("pid namespace").isNotEqualTo(alone[3]);
    }

    @Test
    void sandboxPidnsNeedsTheFirstContainerRunning() throws Exception {
        create("first", false, "true");
        start("first");
        assertThat(agent.await("first", "first")).isZero();
        create("late", true, "true");
        TtrpcException e = agent.failure("StartContainer", StartContainerRequest.newBuilder().setContainerId("late").build());
        assertThat(e.code()).isEqualTo(StatusCode.FAILED_PRECONDITION);
        assertThat(e.getMessage()).contains("shares the pid namespace of the sandbox's first container \"first\"");
        agent.assertServing();
    }

    @Test
    void withoutASandboxAContainerKeepsItsOwnHostname() throws Exception {
        String[] own = namespacesOf("solo", false);
        assertThat(own[0]).isEqualTo("busybox");
    }

    @Test
    void aHostnameLongerThan64BytesIsRefused() {
        TtrpcException e = agent.failure("CreateSandbox", CreateSandboxRequest.newBuilder().setSandboxId("pod")
                .setHostname("h".repeat(65)).build());
        assertThat(e.code()).isEqualTo(StatusCode.INVALID_ARGUMENT);
        assertThat(e.getMessage()).contains("longer than 64 bytes");
    }
}
