package dev.katashim.it.shim;

import com.google.protobuf.Empty;
import dev.katashim.it.peers.TaskApiClient;
import dev.katashim.it.support.BusyboxRootfs;
import dev.katashim.it.support.TempDirs;
import dev.katashim.protocols.containerd.task.v2.CreateTaskRequest;
import dev.katashim.protocols.containerd.task.v2.CreateTaskResponse;
import dev.katashim.protocols.containerd.task.v2.DeleteRequest;
import dev.katashim.protocols.containerd.task.v2.DeleteResponse;
import dev.katashim.protocols.containerd.task.v2.KillRequest;
import dev.katashim.protocols.containerd.task.v2.ShutdownRequest;
import dev.katashim.protocols.containerd.task.v2.StartRequest;
import dev.katashim.protocols.containerd.task.v2.StartResponse;
import dev.katashim.protocols.containerd.task.v2.WaitRequest;
import dev.katashim.protocols.containerd.task.v2.WaitResponse;
import dev.katashim.protocols.containerd.types.task.Status;
import dev.katashim.ttrpc.status.StatusCode;
import dev.katashim.ttrpc.status.TtrpcException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Bad input to our shim, driven through its Task API like containerd would, with a running
 * sandbox container beside: each gets a clear status, and the running container keeps being served.
 */
class ShimBadInputTest {
    private static final String NAMESPACE = "kt-bad";
    private static Path dir;
    private static Path rootfs;
    private static String sandboxId;
    private static TaskApiClient shim;

    @BeforeAll
    static void startASandbox() throws Exception {
        dir = TempDirs.createShort("ktb");
        rootfs = BusyboxRootfs.create(dir.resolve("rootfs")).path();
        sandboxId = "sb-" + UUID.randomUUID().toString().substring(0, 8);
        Path bundle = OciBundles.create(dir.resolve(sandboxId), rootfs, Map.of(), "/bin/sleep", "300");
        String address = ShimProcessUnderTest.start(bundle, NAMESPACE, dir.resolve("c.sock"), sandboxId,
                Map.of("KATA_SHIM_SANDBOX_ROOT", dir.resolve("sbs").toString(), "KATA_CONF_FILE", KataConfigs.noVm(dir).toString()));
        shim = ShimProcessUnderTest.connect(address, NAMESPACE);
        CreateTaskResponse created = shim.call("Create", CreateTaskRequest.newBuilder().setId(sandboxId)
                .setBundle(bundle.toString()).build(), CreateTaskResponse.parser());
        assertThat(created.getPid()).isPositive();
        StartResponse started = shim.call("Start", StartRequest.newBuilder().setId(sandboxId).build(), StartResponse.parser());
        assertThat(started.getPid()).isEqualTo(created.getPid());
    }

    @AfterAll
    static void stop() throws Exception {
        try {
            if (shim != null) {
                shim.call("Kill", KillRequest.newBuilder().setId(sandboxId).setSignal(9).build(), Empty.parser());
                WaitResponse exit = shim.call("Wait", WaitRequest.newBuilder().setId(sandboxId).build(), WaitResponse.parser());
                assertThat(exit.getExitStatus()).isEqualTo(137);
                DeleteResponse deleted = shim.call("Delete", DeleteRequest.newBuilder().setId(sandboxId).build(), DeleteResponse.parser());
                assertThat(deleted.getExitStatus()).isEqualTo(137);
                try {
                    shim.call("Shutdown", ShutdownRequest.newBuilder().setId(sandboxId).build(), Empty.parser());
                } catch (TtrpcException closed) {
                    // the shim may close the connection as it exits: containerd counts that as success
                }
                shim.close();
                assertThat(dir.resolve("sbs").resolve(sandboxId)).doesNotExist();
            }
        } finally {
            TempDirs.deleteRecursively(dir);
        }
    }

    private static void assertSandboxStillServed() throws InterruptedException {
        assertThat(shim.state(sandboxId).getStatus()).isEqualTo(Status.RUNNING);
    }

    private static Path podBundle(String id) throws Exception {
        return OciBundles.create(dir.resolve(id), rootfs, Map.of("io.kubernetes.cri.container-type", "container",
                "io.kubernetes.cri.sandbox-id", sandboxId), "/bin/echo", "hi");
    }

    private static TtrpcException createFails(String id, Path bundle) {
        TtrpcException[] failure = new TtrpcException[1];
        assertThatThrownBy(() -> shim.call("Create", CreateTaskRequest.newBuilder().setId(id).setBundle(bundle.toString()).build(),
                CreateTaskResponse.parser())).isInstanceOfSatisfying(TtrpcException.class, e -> failure[0] = e);
        return failure[0];
    }

    @Test
    void bundleWithoutConfigJson() throws Exception {
        Path bundle = Files.createDirectories(dir.resolve("empty-bundle"));
        TtrpcException e = createFails("noconfig", bundle);
        assertThat(e.code()).isEqualTo(StatusCode.INVALID_ARGUMENT);
        assertThat(e.getMessage()).contains("config.json").contains(bundle.toString());
        assertSandboxStillServed();
    }

    @Test
    void unparsableConfigJson() throws Exception {
        Path bundle = podBundle("badjson");
        Files.writeString(bundle.resolve("config.json"), "{\n  \"ociVersion\": \"1.0.2\",\n  \"process\": {\n");
        TtrpcException e = createFails("badjson", bundle);
        assertThat(e.code()).isEqualTo(StatusCode.INVALID_ARGUMENT);
        assertThat(e.getMessage()).contains("cannot parse").contains("config.json").contains("line");
        assertSandboxStillServed();
    }

    @Test
    void idsWithSlashOrDotDot() throws Exception {
        Path bundle = podBundle("okbundle");
        for (String id : new String[]{"a/b", "..", "../escape"}) {
            TtrpcException e = createFails(id, bundle);
            assertThat(e.code()).as(id).isEqualTo(StatusCode.INVALID_ARGUMENT);
            assertThat(e.getMessage()).contains("invalid container id");
        }
        assertSandboxStillServed();
    }

    private static TtrpcException createFails(CreateTaskRequest request) {
        TtrpcException[] failure = new TtrpcException[1];
        assertThatThrownBy(() -> shim.call("Create", request, CreateTaskResponse.parser()))
                .isInstanceOfSatisfying(TtrpcException.class, e -> failure[0] = e);
        return failure[0];
    }

    private static java.util.List<String> mountsNaming(Path path) throws java.io.IOException {
        return Files.readAllLines(Path.of("/proc/self/mountinfo")).stream().filter(l -> l.contains(path.toString())).toList();
    }

    @Test
    void aContainerIdOfAThousandCharactersIsRefusedByName() throws Exception {
        TtrpcException e = createFails("a".repeat(1000), podBundle("longid"));
        assertThat(e.code()).isEqualTo(StatusCode.INVALID_ARGUMENT);
        assertThat(e.getMessage()).contains("invalid container id 'aaaa").contains("1000 characters, more than the 76 containerd allows");
        assertSandboxStillServed();
    }

    @Test
    void aBundlePathWithDotDotIsRefused() throws Exception {
        Path bundle = podBundle("dotdot");
        String sneaky = dir.resolve("nowhere").resolve("..").resolve("dotdot").toString();
        TtrpcException e = createFails(CreateTaskRequest.newBuilder().setId("dotdot").setBundle(sneaky).build());
        assertThat(e.code()).isEqualTo(StatusCode.INVALID_ARGUMENT);
        assertThat(e.getMessage()).isEqualTo("invalid bundle path '" + sneaky + "': must be absolute, without '.' or '..' components");
        assertThatThrownBy(() -> shim.state("dotdot")).isInstanceOf(TtrpcException.class);
        assertSandboxStillServed();
    }

    @Test
    void aRootfsThatIsASymlinkOutOfTheBundleIsRefusedAndNothingIsMounted() throws Exception {
        Path hostDir = Files.createDirectories(dir.resolve("host-precious"));
        Files.writeString(hostDir.resolve("keep"), "mine");
        Path bundle = podBundle("symlinked");
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        var config = (com.fasterxml.jackson.databind.node.ObjectNode) json.readTree(bundle.resolve("config.json").toFile());
        ((com.fasterxml.jackson.databind.node.ObjectNode) config.get("root")).put("path", "rootfs");
        json.writeValue(bundle.resolve("config.json").toFile(), config);
        Files.createSymbolicLink(bundle.resolve("rootfs"), hostDir);

        // no snapshot mounts: the link's target would become the container's root
        TtrpcException e = createFails("symlinked", bundle);
        assertThat(e.code()).isEqualTo(StatusCode.INVALID_ARGUMENT);
        assertThat(e.getMessage()).contains("root.path 'rootfs' resolves to " + hostDir + ", outside the bundle");
        // containerd's snapshot mounts: mount(8) would follow the link onto the host directory
        TtrpcException mounted = createFails(CreateTaskRequest.newBuilder().setId("symlinked").setBundle(bundle.toString())
                .addRootfs(dev.katashim.protocols.containerd.types.Mount.newBuilder().setType("bind").setSource(rootfs.toString())
                        .addOptions("rbind")).build());
        assertThat(mounted.code()).isEqualTo(StatusCode.INVALID_ARGUMENT);
        assertThat(mounted.getMessage()).contains("rootfs " + bundle.resolve("rootfs") + " is a symlink (to " + hostDir + ")");
        assertThat(mountsNaming(hostDir)).isEmpty();
        assertThat(hostDir.resolve("keep")).hasContent("mine");
        try (var files = Files.list(hostDir)) {
            assertThat(files.toList()).containsExactly(hostDir.resolve("keep"));
        }
        assertSandboxStillServed();
    }

    @Test
    void aPodContainerNamingASandboxIdWithDotDotIsRefused() throws Exception {
        Path bundle = OciBundles.create(dir.resolve("badpod"), rootfs, Map.of("io.kubernetes.cri.container-type", "container",
                "io.kubernetes.cri.sandbox-id", "../../etc"), "/bin/echo", "hi");
        TtrpcException e = createFails("badpod", bundle);
        assertThat(e.code()).isEqualTo(StatusCode.INVALID_ARGUMENT);
        assertThat(e.getMessage()).contains("invalid sandbox id (in the annotations) '../../etc'");
        assertSandboxStillServed();
    }

    @Test
    void anExecIdWithSlashOrOfAThousandCharactersIsRefused() throws Exception {
        for (String execId : new String[]{"../x", "e".repeat(1000)}) {
            assertThatThrownBy(() -> shim.call("Exec", dev.katashim.protocols.containerd.task.v2.ExecProcessRequest.newBuilder()
                    .setId(sandboxId).setExecId(execId).setSpec(com.google.protobuf.Any.newBuilder()
                            .setTypeUrl("types.containerd.io/opencontainers/runtime-spec/1/Process")
                            .setValue(com.google.protobuf.ByteString.copyFromUtf8("{\"args\":[\"/bin/true\"],\"cwd\":\"/\"}"))).build(),
                    Empty.parser())).isInstanceOfSatisfying(TtrpcException.class, e -> {
                        assertThat(e.code()).isEqualTo(StatusCode.INVALID_ARGUMENT);
                        assertThat(e.getMessage()).startsWith("invalid exec id '");
                    });
        }
        assertSandboxStillServed();
    }

    @Test
    void startTwice() throws Exception {
        assertThatThrownBy(() -> shim.call("Start", StartRequest.newBuilder().setId(sandboxId).build(), StartResponse.parser()))
                .isInstanceOfSatisfying(TtrpcException.class, e -> {
                    assertThat(e.code()).isEqualTo(StatusCode.FAILED_PRECONDITION);
                    assertThat(e.getMessage()).contains("cannot be started again");
                });
        assertSandboxStillServed();
    }

    @Test
    void killOfAnUnknownId() throws Exception {
        assertThatThrownBy(() -> shim.call("Kill", KillRequest.newBuilder().setId("ghost").setSignal(15).build(), Empty.parser()))
                .isInstanceOfSatisfying(TtrpcException.class, e -> {
                    assertThat(e.code()).isEqualTo(StatusCode.NOT_FOUND);
                    assertThat(e.getMessage()).contains("ghost");
                });
        assertSandboxStillServed();
    }

    @Test
    void waitOnADeletedTask() throws Exception {
        // a pod container that runs, exits, and is deleted: Wait on it afterwards is NOT_FOUND
        String id = "short-" + UUID.randomUUID().toString().substring(0, 6);
        Path bundle = podBundle(id);
        shim.call("Create", CreateTaskRequest.newBuilder().setId(id).setBundle(bundle.toString()).build(), CreateTaskResponse.parser());
        shim.call("Start", StartRequest.newBuilder().setId(id).build(), StartResponse.parser());
        assertThat(shim.call("Wait", WaitRequest.newBuilder().setId(id).build(), WaitResponse.parser()).getExitStatus()).isZero();
        assertThat(shim.call("Delete", DeleteRequest.newBuilder().setId(id).build(), DeleteResponse.parser()).getExitStatus()).isZero();
        assertThatThrownBy(() -> shim.call("Wait", WaitRequest.newBuilder().setId(id).build(), WaitResponse.parser()))
                .isInstanceOfSatisfying(TtrpcException.class, e -> {
                    assertThat(e.code()).isEqualTo(StatusCode.NOT_FOUND);
                    assertThat(e.getMessage()).contains(id);
                });
        assertSandboxStillServed();
    }

    @Test
    void aSecondSandboxInTheSameShimIsRefused() throws Exception {
        Path bundle = OciBundles.create(dir.resolve("second"), rootfs, Map.of(), "/bin/true");
        TtrpcException e = createFails("second", bundle);
        assertThat(e.code()).isEqualTo(StatusCode.ALREADY_EXISTS);
        assertThat(e.getMessage()).contains("cannot create another sandbox");
        assertSandboxStillServed();
    }

    @Test
    void checkpointIsUnimplementedByName() throws Exception {
        assertThatThrownBy(() -> shim.call("Checkpoint", dev.katashim.protocols.containerd.task.v2.CheckpointTaskRequest
                .newBuilder().setId(sandboxId).build(), Empty.parser()))
                .isInstanceOfSatisfying(TtrpcException.class, e -> {
                    assertThat(e.code()).isEqualTo(StatusCode.UNIMPLEMENTED);
                    assertThat(e.getMessage()).contains("Checkpoint");
                });
        assertSandboxStillServed();
    }
}
