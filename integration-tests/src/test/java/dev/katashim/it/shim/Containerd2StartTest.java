package dev.katashim.it.shim;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.Empty;
import dev.katashim.it.peers.TaskApiClient;
import dev.katashim.it.support.ShimSockets;
import dev.katashim.it.support.Mounts;
import dev.katashim.it.support.TempDirs;
import dev.katashim.protocols.containerd.runtime.bootstrap.v1.BootstrapResult;
import dev.katashim.protocols.containerd.task.v2.DeleteResponse;
import dev.katashim.protocols.containerd.task.v2.ShutdownRequest;
import dev.katashim.protocols.containerd.types.RuntimeInfo;
import dev.katashim.protocols.runtimeoptions.v1.Options;
import dev.katashim.ttrpc.status.TtrpcException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code start}, {@code -info} and {@code -v} as containerd 1.6, 1.7-2.2 and 2.3+ run them
 * ({@link Containerd2Driver} stands in for 2.x): each release gets the reply form it reads, and
 * bad input is a clear error that leaves nothing behind. Most cases use a pod container's start,
 * which answers from the launcher without starting a JVM.
 */
class Containerd2StartTest {
    private static final String NAMESPACE = "kt-cd2s";
    private static Path dir;
    private static Path sandboxRoot;
    private static Containerd2Driver containerd2;

    @BeforeAll
    static void setUp() {
        dir = TempDirs.createShort("ktc");
        sandboxRoot = dir.resolve("sbs");
        containerd2 = new Containerd2Driver(dir.resolve("c.sock"), NAMESPACE, Map.of(
                "KATA_SHIM_SANDBOX_ROOT", sandboxRoot.toString(), "KATA_CONF_FILE", KataConfigs.noVm(dir).toString()));
    }

    @AfterEach
    void endWhatATestLeft() {
        DriverLeftovers.killAll(dir);
        Mounts.unmountAllBelow(dir); // what a killed shim would have unmounted
    }

    @AfterAll
    static void tearDown() {
        TempDirs.deleteRecursively(dir);
    }

    private static String uniqueId(String prefix) {
        return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    private static Path podContainerBundle(String id, String sandboxId) throws Exception {
        return OciBundles.create(dir.resolve(id), dir, Map.of("io.kubernetes.cri.container-type", "container",
                "io.kubernetes.cri.sandbox-id", sandboxId), "/bin/true");
    }

    private static Any configPathOptions(Path config) {
        return Any.newBuilder().setTypeUrl("runtimeoptions.v1.Options")
                .setValue(Options.newBuilder().setConfigPath(config.toString()).build().toByteString()).build();
    }

    @Test
    void eachContainerdGetsTheStartReplyItReads() throws Exception {
        String sandboxId = uniqueId("pod");
        Path socketDir = dir.resolve("s");
        Path sandboxSocket = socketDir.resolve(ShimSockets.pathFor(dir.resolve("c.sock"), NAMESPACE, sandboxId).getFileName());

        // 2.3+: a protobuf BootstrapResult, version 3, under the socket_dir containerd asked for
        Path v23 = podContainerBundle(uniqueId("c23"), sandboxId);
        Containerd2Driver.StartReply reply = containerd2.start(v23, "c23", Containerd2Driver.Release.V2_3,
                Optional.empty(), Optional.of(socketDir), false);
        BootstrapResult result = BootstrapResult.parseFrom(reply.output());
        assertThat(result.getVersion()).isEqualTo(3);
        assertThat(result.getProtocol()).isEqualTo("ttrpc");
        assertThat(result.getAddress()).isEqualTo("unix://" + sandboxSocket);
        assertThat(Files.readString(v23.resolve("address"))).isEqualTo(result.getAddress());

        // 1.7 to 2.2: JSON version 2, which 1.7 (version <= 2) and 2.0-2.2 (<= 3) accept
        Path v22 = podContainerBundle(uniqueId("c22"), sandboxId);
        reply = containerd2.start(v22, "c22", Containerd2Driver.Release.V2_2, Optional.empty(), Optional.empty(), false);
        String json = new String(reply.output(), StandardCharsets.UTF_8);
        Path defaultSocket = ShimSockets.pathFor(dir.resolve("c.sock"), NAMESPACE, sandboxId);
        assertThat(json).isEqualTo("{\"version\":2,\"address\":\"unix://" + defaultSocket + "\",\"protocol\":\"ttrpc\"}");
        assertThat(Containerd2Driver.parseLegacyStartResponse(reply.output()).version()).isEqualTo(2);
        assertThat(reply.version()).isEqualTo(2);
        assertThat(reply.address()).isEqualTo("unix://" + defaultSocket);

        // 1.6 (no MAX_SHIM_VERSION): the plain address, exactly as before
        Path v16 = podContainerBundle(uniqueId("c16"), sandboxId);
        assertThat(ShimProcessUnderTest.start(v16, NAMESPACE, dir.resolve("c.sock"), "c16", Map.of()))
                .isEqualTo("unix://" + defaultSocket);
        assertThat(DriverLeftovers.processesUnder(dir)).as("a pod container's start starts nothing").isEmpty();
    }

    @Test
    void garbageOnStdinIsRefusedAndLeavesNothing() throws Exception {
        assertRefused("garbage", "not a protobuf message, nor JSON".getBytes(StandardCharsets.UTF_8),
                "is neither containerd's BootstrapParams for -id 'garbage");
    }

    @Test
    void bootstrapParamsForAnotherInstanceAreRefused() throws Exception {
        byte[] params = containerd2.bootstrapParams("someone-else", Optional.empty(), Optional.empty(), false).toByteArray();
        assertRefused("mine", params, "BootstrapParams are for instance 'someone-else' in namespace '" + NAMESPACE
                + "', but this shim was started with -id 'mine");
    }

    @Test
    void bootstrapParamsForAnotherNamespaceAreRefused() throws Exception {
        byte[] params = new Containerd2Driver(dir.resolve("c.sock"), "default", Map.of())
                .bootstrapParams("mine2", Optional.empty(), Optional.empty(), false).toByteArray();
        assertRefused("mine2", params, "in namespace 'default', but this shim was started with -id 'mine2' -namespace '"
                + NAMESPACE + "'");
    }

    @Test
    void aLauncherWithoutItsJarsRefusesToStartAndBindsNoSocket() throws Exception {
        Path emptyLib = Files.createDirectories(dir.resolve("no-jars"));
        Containerd2Driver broken = new Containerd2Driver(dir.resolve("c.sock"), NAMESPACE, Map.of(
                "KATA_SHIM_SANDBOX_ROOT", sandboxRoot.toString(), "KATA_CONF_FILE", KataConfigs.noVm(dir).toString(),
                "KATA_SHIM_LIB", emptyLib.toString()));
        String id = uniqueId("nojars");
        Path bundle = OciBundles.create(dir.resolve(id), dir, Map.of(), "/bin/true");

        Containerd2Driver.Ran ran = broken.startRaw(bundle, id, new byte[0], false);

        assertThat(ran.exitCode()).as(ran.outputText()).isNotZero();
        assertThat(ran.outputText()).contains("no shim jars in " + emptyLib).doesNotContain("unix://");
        assertThat(bundle.resolve("address")).doesNotExist();
        DriverLeftovers.assertNone(dir, ShimSockets.pathFor(dir.resolve("c.sock"), NAMESPACE, id), sandboxRoot.resolve(id));
    }

    /** start for a sandbox (which would start a serving shim) with {@code stdin}: a clear error, and nothing made. */
    private static void assertRefused(String idPrefix, byte[] stdin, String message) throws Exception {
        String id = idPrefix;
        Path bundle = OciBundles.create(dir.resolve(uniqueId(id)), dir, Map.of(), "/bin/true");
        Containerd2Driver.Ran ran = containerd2.startRaw(bundle, id, stdin, false);
        assertThat(ran.exitCode()).as(ran.outputText()).isNotZero();
        assertThat(ran.outputText()).contains(message);
        assertThat(ran.outputText()).doesNotContain("unix://");
        assertThat(bundle.resolve("kata-shim-options.pb")).doesNotExist();
        assertThat(bundle.resolve("address")).doesNotExist();
        DriverLeftovers.assertNone(dir, ShimSockets.pathFor(dir.resolve("c.sock"), NAMESPACE, id), sandboxRoot.resolve(id));
    }

    @Test
    void anEmptyStdinMeansNoOptionsAndTheDefaultConfigurationSearch() throws Exception {
        // containerd <= 2.2 without runtime options: KATA_CONF_FILE (the no-VM sandbox here) is used
        String id = uniqueId("empty");
        Path bundle = OciBundles.create(dir.resolve(id), dir, Map.of(), "/bin/true");
        Containerd2Driver.Ran ran = containerd2.startRaw(bundle, id, new byte[0], false);
        assertThat(ran.exitCode()).as(ran.outputText()).isZero();
        Containerd2Driver.StartReply reply = Containerd2Driver.parseStartResponse(ran.stdout());
        assertThat(reply.version()).isEqualTo(2);
        assertThat(new String(ran.stdout(), StandardCharsets.UTF_8)).startsWith("{\"version\":2,");
        try (TaskApiClient shim = TaskApiClient.connect(reply.socket(), NAMESPACE, reply.version())) {
            assertThat(shim.connect(id).getShimPid()).isPositive();
            try {
                shim.call("Shutdown", ShutdownRequest.newBuilder().setId(id).build(), Empty.parser());
            } catch (TtrpcException closed) {
                // the shim may close the connection as it exits: containerd counts that as success
            }
        }
        DeleteResponse deleted = containerd2.delete(bundle, id);
        assertThat(deleted.getExitStatus()).isEqualTo(137);
        DriverLeftovers.assertNone(dir, reply.socket(), sandboxRoot.resolve(id));
    }

    @Test
    void infoNamesTheRuntimeItsVersionAndItsOptionsType() throws Exception {
        RuntimeInfo bare = Containerd2Driver.runtimeInfo(containerd2.info(new byte[0]));
        assertThat(bare.getName()).isEqualTo("io.containerd.kata.v2");
        assertThat(bare.getVersion().getVersion()).isNotBlank().isNotEqualTo("unknown");
        assertThat(bare.getOptions().getTypeUrl()).isEqualTo("runtimeoptions.v1.Options");

        Any options = configPathOptions(Path.of("/etc/kata-containers/other.toml"));
        RuntimeInfo withOptions = Containerd2Driver.runtimeInfo(containerd2.info(options.toByteArray()));
        assertThat(Options.parseFrom(withOptions.getOptions().getValue()).getConfigPath()).isEqualTo("/etc/kata-containers/other.toml");
    }

    @Test
    void infoWithGarbageOptionsFailsClearly() {
        Containerd2Driver.Ran ran = containerd2.info("\u00ff\u00fe garbage".getBytes(StandardCharsets.ISO_8859_1));
        assertThat(ran.exitCode()).isNotZero();
        assertThat(ran.stdout()).isEmpty();
        assertThat(ran.stderrText()).contains("containerd-shim-kata-v2 -info").contains("is not runtime options");

        Any foreign = Any.newBuilder().setTypeUrl("containerd.runc.v1.Options").setValue(ByteString.copyFromUtf8("x")).build();
        Containerd2Driver.Ran runc = containerd2.info(foreign.toByteArray());
        assertThat(runc.exitCode()).isNotZero();
        assertThat(runc.stderrText()).contains("runtime options of type 'containerd.runc.v1.Options'");
    }

    @Test
    void versionFlagPrintsTheVersion() throws Exception {
        for (String flag : new String[]{"-v", "-version"}) {
            dev.katashim.it.support.CommandResult result = dev.katashim.it.support.ExternalCommand.run(
                    java.util.List.of(ShimProcessUnderTest.launcher().toString(), flag), java.time.Duration.ofSeconds(20));
            assertThat(result.exitCode()).as(result.toString()).isZero();
            assertThat(result.stdout()).startsWith("containerd-shim-kata-v2:").contains("Version:");
        }
    }
}
