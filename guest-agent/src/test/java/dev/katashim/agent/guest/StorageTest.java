package dev.katashim.agent.guest;

import dev.katashim.agent.guest.support.AgentFixture;
import dev.katashim.agent.guest.support.Specs;
import dev.katashim.protocols.kata.agent.CreateContainerRequest;
import dev.katashim.protocols.kata.agent.CreateSandboxRequest;
import dev.katashim.protocols.kata.agent.DestroySandboxRequest;
import dev.katashim.protocols.kata.agent.RemoveContainerRequest;
import dev.katashim.protocols.kata.agent.Spec;
import dev.katashim.protocols.kata.agent.StartContainerRequest;
import dev.katashim.protocols.kata.agent.Storage;
import dev.katashim.protocols.kata.agent.UpdateEphemeralMountsRequest;
import dev.katashim.ttrpc.status.StatusCode;
import dev.katashim.ttrpc.status.TtrpcException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Sandbox storages as the shim sends them (the pod's /dev/shm, emptyDirs, local directories) and
 * containers' bind mounts of guest paths. Host mode: the guest's /run/kata-containers is under
 * the agent's state dir, its shared/containers the agent's shared directory.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class StorageTest {
    private static final String SHM = "/run/kata-containers/sandbox/shm";
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

    private static Storage shm(long size) {
        return Storage.newBuilder().setDriver("ephemeral").setSource("shm").setFstype("tmpfs").setMountPoint(SHM)
                .addAllOptions(List.of("noexec", "nosuid", "nodev", "mode=1777", "size=" + size)).build();
    }

    private static Storage ephemeral(String volume) {
        return Storage.newBuilder().setDriver("ephemeral").setSource("tmpfs").setFstype("tmpfs")
                .setMountPoint("/run/kata-containers/sandbox/ephemeral/" + volume).build();
    }

    private static Spec.Builder busybox(String... args) {
        return Specs.busybox(agent.rootfs, args);
    }

    private void create(String id, Spec spec, Storage... storages) throws InterruptedException {
        agent.call("CreateContainer", CreateContainerRequest.newBuilder().setContainerId(id).setExecId(id)
                .addAllStorages(List.of(storages)).setOCI(spec).build());
    }

    private void start(String id) throws InterruptedException {
        agent.call("StartContainer", StartContainerRequest.newBuilder().setContainerId(id).build());
    }

    private void remove(String id) throws InterruptedException {
        agent.call("RemoveContainer", RemoveContainerRequest.newBuilder().setContainerId(id).build());
    }

    @Test
    void theSandboxShmIsOneTmpfsForAllContainersUntilDestroySandbox() throws Exception {
        agent.call("CreateSandbox", CreateSandboxRequest.newBuilder().setSandboxId("sb").setHostname("pod")
                .addStorages(shm(8 << 20)).build());
        Path shm = agent.guestPath(SHM);
        AgentFixture.MountInfo mount = AgentFixture.mountAt(shm).orElseThrow();
        assertThat(mount.fstype()).isEqualTo("tmpfs");
        assertThat(mount.mountOptions()).contains("nosuid", "nodev", "noexec");
        assertThat(mount.superOptions()).contains("size=8192k");
        assertThat((Integer) Files.getAttribute(shm, "unix:mode") & 07777).isEqualTo(01777);

        // As the shim rewrites /dev/shm: a bind of the sandbox's shm (rbind, no ro).
        agent.createAndStart("writer", Specs.withMount(busybox("sh", "-c", "echo shared > /dev/shm/note; echo done"),
                Specs.bind("/dev/shm", SHM, false)).build());
        assertThat(agent.readAll("ReadStdout", "writer", "")).isEqualTo("done\n");
        agent.createAndStart("reader", Specs.withMount(busybox("sh", "-c", "cat /dev/shm/note; df -k /dev/shm | tail -1"),
                Specs.bind("/dev/shm", SHM, false)).build());
        assertThat(agent.readAll("ReadStdout", "reader", "")).startsWith("shared\n").contains(" 8192 ");
        remove("writer");
        remove("reader");
        assertThat(AgentFixture.mountAt(shm)).as("the sandbox's shm outlives its containers").isPresent();

        agent.call("DestroySandbox", DestroySandboxRequest.getDefaultInstance());
        assertThat(AgentFixture.mountAt(shm)).isEmpty();
        assertThat(shm).doesNotExist();
    }

    @Test
    void anEphemeralVolumeIsMountedOnceAndUnmountedWithItsLastContainer() throws Exception {
        Storage cache = ephemeral("cache");
        Path mountPoint = agent.guestPath(cache.getMountPoint());
        create("a", Specs.withMount(busybox("sh", "-c", "echo from-a > /cache/f; sleep 300"),
                Specs.bind("/cache", cache.getMountPoint(), false)).build(), cache);
        create("b", Specs.withMount(busybox("sh", "-c", "until [ -e /cache/f ]; do sleep 0.05; done; cat /cache/f"),
                Specs.bind("/cache", cache.getMountPoint(), false)).build(), cache);
        assertThat(AgentFixture.mountInfo().stream().filter(m -> m.mountPoint().equals(mountPoint))).hasSize(1);
        start("a");
        start("b");
        assertThat(agent.readAll("ReadStdout", "b", "")).isEqualTo("from-a\n");

        remove("a");
        assertThat(AgentFixture.mountAt(mountPoint)).as("b still holds it").isPresent();
        remove("b");
        assertThat(AgentFixture.mountAt(mountPoint)).isEmpty();
    }

    @Test
    void updateEphemeralMountsResizesAnEphemeralStorage() throws Exception {
        Storage cache = ephemeral("sized");
        create("r", busybox("sleep", "300").build(), cache);
        Path mountPoint = agent.guestPath(cache.getMountPoint());
        // what the shim sends once it knows the sandbox's memory
        agent.call("UpdateEphemeralMounts", UpdateEphemeralMountsRequest.newBuilder()
                .addStorages(cache.toBuilder().addOptions("remount,size=4M")).build());
        assertThat(AgentFixture.mountAt(mountPoint).orElseThrow().superOptions()).contains("size=4096k");

        TtrpcException e = agent.failure("UpdateEphemeralMounts", UpdateEphemeralMountsRequest.newBuilder()
                .addStorages(ephemeral("never").toBuilder().addOptions("remount,size=4M")).build());
        assertThat(e.code()).isEqualTo(StatusCode.FAILED_PRECONDITION);
        assertThat(e.getMessage()).contains("/run/kata-containers/sandbox/ephemeral/never").contains("is not mounted");
        e = agent.failure("UpdateEphemeralMounts", UpdateEphemeralMountsRequest.newBuilder()
                .addStorages(Storage.newBuilder().setDriver("local").setMountPoint("/run/kata-containers/x")).build());
        assertThat(e.code()).isEqualTo(StatusCode.INVALID_ARGUMENT);
        assertThat(e.getMessage()).contains("only ephemeral storages can be updated");
    }

    @Test
    void aLocalStorageIsADirectoryWithTheModeAsked() throws Exception {
        String guest = "/run/kata-containers/shared/containers/sb/rootfs/local/data";
        Storage local = Storage.newBuilder().setDriver("local").setSource("local").setFstype("local").setMountPoint(guest)
                .addOptions("mode=0777").build();
        create("l", Specs.withMount(busybox("sh", "-c", "echo kept > /data/file"), Specs.bind("/data", guest, false)).build(), local);
        Path dir = agent.guestPath(guest);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir))).isEqualTo("rwxrwxrwx");
        assertThat(AgentFixture.mountAt(dir)).as("a local storage is not a mount").isEmpty();
        start("l");
        assertThat(agent.await("l", "")).isZero();
        assertThat(dir.resolve("file")).hasContent("kept");
    }

    @Test
    void aBadStorageIsRefusedNamingItAndNothingIsLeftMounted() throws Exception {
        Storage good = ephemeral("good");
        record Bad(Storage storage, StatusCode code, String... says) {
        }
        List<Bad> bad = List.of(
                new Bad(ephemeral("x").toBuilder().setDriver("floppy").build(), StatusCode.INVALID_ARGUMENT, "unknown driver \"floppy\""),
                new Bad(ephemeral("x").toBuilder().setDriver("").build(), StatusCode.INVALID_ARGUMENT, "has no driver"),
                new Bad(ephemeral("x").toBuilder().setMountPoint("").build(), StatusCode.INVALID_ARGUMENT, "has no mount_point"),
                new Bad(ephemeral("x").toBuilder().setMountPoint("/mnt/elsewhere").build(), StatusCode.INVALID_ARGUMENT,
                        "storage \"/mnt/elsewhere\"", "must be below /run/kata-containers"),
                new Bad(ephemeral("x").toBuilder().setMountPoint("/run/kata-containers/../etc").build(), StatusCode.INVALID_ARGUMENT,
                        "absolute, normalised"),
                new Bad(ephemeral("x").toBuilder().setSource("").build(), StatusCode.INVALID_ARGUMENT, "has no source"),
                new Bad(ephemeral("x").toBuilder().setFstype("ext4").build(), StatusCode.INVALID_ARGUMENT, "is a tmpfs"),
                new Bad(ephemeral("x").toBuilder().setDriver("blk").build(), StatusCode.UNIMPLEMENTED, "\"blk\" is not implemented"),
                new Bad(ephemeral("x").toBuilder().addOptions("fsgid=staff").build(), StatusCode.INVALID_ARGUMENT, "fsgid=staff"));
        for (Bad b : bad) {
            TtrpcException e = agent.failure("CreateContainer", CreateContainerRequest.newBuilder().setContainerId("bad")
                    .addStorages(good).addStorages(b.storage()).setOCI(busybox("true")).build());
            assertThat(e.code()).as(e.getMessage()).isEqualTo(b.code());
            assertThat(e.getMessage()).contains(b.says());
            assertThat(AgentFixture.mountsUnder(agent.dir)).as("after: %s", e.getMessage()).isEmpty();
        }
        // The same in CreateSandbox: no sandbox, nothing mounted; a good request works afterwards.
        TtrpcException e = agent.failure("CreateSandbox", CreateSandboxRequest.newBuilder().setSandboxId("sb")
                .addStorages(shm(1 << 20)).addStorages(bad.getFirst().storage()).build());
        assertThat(e.code()).isEqualTo(StatusCode.INVALID_ARGUMENT);
        assertThat(AgentFixture.mountsUnder(agent.dir)).isEmpty();
        agent.call("CreateSandbox", CreateSandboxRequest.newBuilder().setSandboxId("sb").addStorages(shm(1 << 20)).build());
        agent.assertServing();
    }

    @Test
    void aMountThatFailsUndoesTheStoragesMountedBeforeIt() throws Exception {
        Storage share = Storage.newBuilder().setDriver("9p").setSource("no-such-tag").setFstype("9p")
                .setMountPoint("/run/kata-containers/shared/volume").addOptions("trans=virtio,version=9p2000.L").build();
        TtrpcException e = agent.failure("CreateContainer", CreateContainerRequest.newBuilder().setContainerId("m")
                .addStorages(ephemeral("first")).addStorages(share).setOCI(busybox("true")).build());
        assertThat(e.code()).isEqualTo(StatusCode.INTERNAL);
        assertThat(e.getMessage()).contains("mount no-such-tag on");
        assertThat(AgentFixture.mountsUnder(agent.dir)).isEmpty();
    }

    @Test
    void theSameMountPointForAnotherStorageIsRefused() throws Exception {
        Storage cache = ephemeral("cache");
        create("one", busybox("sleep", "300").build(), cache);
        TtrpcException e = agent.failure("CreateContainer", CreateContainerRequest.newBuilder().setContainerId("two")
                .addStorages(cache.toBuilder().setSource("other")).setOCI(busybox("true")).build());
        assertThat(e.code()).isEqualTo(StatusCode.INVALID_ARGUMENT);
        assertThat(e.getMessage()).contains("holds another storage already");
    }

    @Test
    void bindMountsOfSharedFilesAndDirectoriesHonourReadOnly() throws Exception {
        Path shared = agent.guestPath("/run/kata-containers/shared/containers/");
        Files.createDirectories(shared.resolve("c-ro-dir"));
        Files.writeString(shared.resolve("c-ro-dir/a"), "in-dir");
        Files.writeString(shared.resolve("c-file"), "one file");
        Files.createDirectories(shared.resolve("c-rw-dir"));
        String s = "/run/kata-containers/shared/containers/";
        Spec.Builder spec = busybox("sh", "-c", "cat /mnt/dir/a; echo; cat /etc/app.conf; echo;"
                + " (echo x > /mnt/dir/b) 2>/dev/null || echo ro-dir;"
                + " (echo x > /etc/app.conf) 2>/dev/null || echo ro-file;"
                + " echo w > /mnt/rw/w && echo rw-ok");
        spec = Specs.withMount(spec, Specs.bind("/mnt/dir", s + "c-ro-dir", true));
        spec = Specs.withMount(spec, Specs.bind("/etc/app.conf", s + "c-file", true));
        spec = Specs.withMount(spec, Specs.bind("/mnt/rw", s + "c-rw-dir", false));
        agent.createAndStart("binds", spec.build());
        assertThat(agent.readAll("ReadStdout", "binds", "")).isEqualTo("in-dir\none file\nro-dir\nro-file\nrw-ok\n");
        assertThat(agent.await("binds", "")).isZero();
        assertThat(shared.resolve("c-rw-dir/w")).hasContent("w");
        assertThat(shared.resolve("c-ro-dir/b")).doesNotExist();

        // A watchable bind (a ConfigMap) is bound where the shim says, and the container binds that.
        Storage watchable = Storage.newBuilder().setDriver("watchable-bind").setSource(s + "c-ro-dir").setFstype("bind")
                .setMountPoint(s + "watchable/c-ro-dir").build();
        create("cm", Specs.withMount(busybox("cat", "/config/a"), Specs.bind("/config", s + "watchable/c-ro-dir", true)).build(), watchable);
        start("cm");
        assertThat(agent.readAll("ReadStdout", "cm", "")).isEqualTo("in-dir");

        TtrpcException e = agent.failure("CreateContainer", CreateContainerRequest.newBuilder().setContainerId("nosrc")
                .setOCI(Specs.withMount(busybox("true"), Specs.bind("/mnt/x", s + "never-shared", true))).build());
        assertThat(e.code()).isEqualTo(StatusCode.INVALID_ARGUMENT);
        assertThat(e.getMessage()).contains("the bind mount on \"/mnt/x\" has no source \"" + s + "never-shared\"");
    }
}
