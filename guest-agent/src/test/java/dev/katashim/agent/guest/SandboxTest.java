package dev.katashim.agent.guest;

import com.google.protobuf.ByteString;
import dev.katashim.agent.guest.support.AgentFixture;
import dev.katashim.agent.guest.support.Specs;
import dev.katashim.agent.guest.support.TestRootfs;
import dev.katashim.protocols.kata.agent.Box;
import dev.katashim.protocols.kata.agent.CheckRequest;
import dev.katashim.protocols.kata.agent.CopyFileRequest;
import dev.katashim.protocols.kata.agent.CreateContainerRequest;
import dev.katashim.protocols.kata.agent.CreateSandboxRequest;
import dev.katashim.protocols.kata.agent.DestroySandboxRequest;
import dev.katashim.protocols.kata.agent.GuestDetailsRequest;
import dev.katashim.protocols.kata.agent.GuestDetailsResponse;
import dev.katashim.protocols.kata.agent.PauseContainerRequest;
import dev.katashim.protocols.kata.agent.VersionCheckResponse;
import dev.katashim.ttrpc.client.CallOptions;
import dev.katashim.ttrpc.status.StatusCode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The sandbox-wide calls: create and destroy a sandbox, storages, guest details, CopyFile, health. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SandboxTest {
    private static AgentFixture agent;

    @BeforeAll
    static void startAgent() throws Exception {
        agent = AgentFixture.start();
    }

    @AfterEach
    void noLeftovers() throws Exception {
        agent.cleanUp();
    }

    @AfterAll
    static void stopAgent() throws Exception {
        if (agent != null) {
            agent.close();
        }
    }

    @Test
    void destroySandboxLeavesNoContainerRuncStateOrCgroup() throws Exception {
        agent.call("CreateSandbox", CreateSandboxRequest.newBuilder().setSandboxId("sb1").setHostname("pod").build());
        assertThat(agent.failure("CreateSandbox", CreateSandboxRequest.newBuilder().setSandboxId("sb2").build()).getMessage())
                .contains("sandbox \"sb1\" already exists");

        agent.createAndStart("running", Specs.busybox(agent.rootfs, "sleep", "300").build());
        agent.exec("running", "extra", Specs.process("sleep", "300"));
        agent.createAndStart("paused", Specs.busybox(agent.rootfs, "sleep", "300").build());
        agent.call("PauseContainer", PauseContainerRequest.newBuilder().setContainerId("paused").build());
        agent.createAndStart("tty", Specs.busybox(agent.rootfs, Specs.process("sleep", "300").toBuilder()
                .setTerminal(true).setConsoleSize(Box.newBuilder().setHeight(10).setWidth(10)).build()).build());
        agent.create("never-started", Specs.busybox(agent.rootfs, "true").build());
        assertThat(agent.runcContainers()).containsExactlyInAnyOrder("running", "paused", "tty");
        assertThat(agent.cgroupDirs()).isNotEmpty();

        agent.call("DestroySandbox", DestroySandboxRequest.getDefaultInstance());

        agent.assertNoLeftovers();
        // A new sandbox can be created afterwards.
        agent.call("CreateSandbox", CreateSandboxRequest.newBuilder().setSandboxId("sb2").build());
        agent.call("DestroySandbox", DestroySandboxRequest.getDefaultInstance());
    }

    @Test
    void aRootfsInTheSharedDirectoryIsFoundByItsGuestPath() throws Exception {
        // Where the shim puts a container's rootfs: /run/kata-containers/shared/containers/<id>/rootfs
        TestRootfs.create(agent.guestPath("/run/kata-containers/shared/containers/st/rootfs"));
        agent.createAndStart("st", Specs.busybox(Path.of("/run/kata-containers/shared/containers/st/rootfs"), "cat", "/etc/passwd").build());
        assertThat(agent.readAll("ReadStdout", "st", "st")).startsWith("root:x:0:0:");
        assertThat(agent.await("st", "st")).isZero();

        var e = agent.failure("CreateContainer", CreateContainerRequest.newBuilder().setContainerId("st2")
                .setOCI(Specs.busybox(Path.of("/run/kata-containers/shared/containers/st2/rootfs"), "true")).build());
        assertThat(e.code()).isEqualTo(StatusCode.INVALID_ARGUMENT);
        assertThat(e.getMessage()).contains("is not a directory (not shared or not mounted?)");
    }

    @Test
    void guestDetailsAndHealth() throws Exception {
        GuestDetailsResponse details = agent.call("GetGuestDetails", GuestDetailsRequest.newBuilder()
                .setMemBlockSize(true).setMemHotplugProbe(true).build(), GuestDetailsResponse.parser());
        Path blockSize = Path.of("/sys/devices/system/memory/block_size_bytes");
        long expected = Files.exists(blockSize) ? Long.parseLong(Files.readString(blockSize).strip(), 16) : 0;
        assertThat(details.getMemBlockSizeBytes()).isEqualTo(expected);
        assertThat(details.getSupportMemHotplugProbe()).isEqualTo(Files.exists(Path.of("/sys/devices/system/memory/probe")));
        assertThat(details.getAgentDetails().getVersion()).isEqualTo(GuestAgent.VERSION);
        assertThat(details.getAgentDetails().getInitDaemon()).isFalse();

        VersionCheckResponse version = agent.client.blockingCall("grpc.Health", "Version", CheckRequest.getDefaultInstance(),
                VersionCheckResponse.parser(), CallOptions.DEFAULT);
        assertThat(version.getAgentVersion()).isEqualTo(GuestAgent.VERSION);
        agent.assertServing();
    }

    @Test
    void copyFileWritesChunksInsideTheSharedDirectoryOnly() throws Exception {
        Path target = agent.dir.resolve("shared/c1/etc/hostname");
        byte[] data = "pod-hostname\n".getBytes();
        agent.call("CopyFile", copy(target, data, 0, 5));
        assertThat(target).doesNotExist(); // not complete yet
        agent.call("CopyFile", copy(target, data, 5, data.length - 5));
        assertThat(target).hasBinaryContent(data);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(target))).isEqualTo("rw-r--r--");

        var e = agent.failure("CopyFile", copy(agent.dir.resolve("elsewhere"), data, 0, data.length));
        assertThat(e.code()).isEqualTo(StatusCode.INVALID_ARGUMENT);
        assertThat(e.getMessage()).contains("is not inside the shared directory");
        e = agent.failure("CopyFile", copy(Path.of(agent.dir.resolve("shared") + "/../escape"), data, 0, data.length));
        assertThat(e.code()).isEqualTo(StatusCode.INVALID_ARGUMENT);
        assertThat(agent.dir.resolve("escape")).doesNotExist();
    }

    private static CopyFileRequest copy(Path path, byte[] data, int offset, int length) {
        return CopyFileRequest.newBuilder().setPath(path.toString()).setFileSize(data.length).setFileMode(0100644)
                .setDirMode(0755).setUid(0).setGid(0).setOffset(offset)
                .setData(ByteString.copyFrom(data, offset, length)).build();
    }
}
