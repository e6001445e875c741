package dev.katashim.shim.config;

import com.google.protobuf.Any;
import dev.katashim.protocols.containerd.runtime.bootstrap.v1.BootstrapParams;
import dev.katashim.protocols.containerd.runtime.bootstrap.v1.Extension;
import dev.katashim.protocols.containerd.runtime.bootstrap.v1.LogLevel;
import dev.katashim.protocols.runtimeoptions.v1.Options;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The two forms of start's stdin (containerd <= 2.2: the options Any; 2.3+: BootstrapParams) and what is neither. */
class StartInputTest {
    private static final Any OPTIONS = Any.newBuilder().setTypeUrl("runtimeoptions.v1.Options")
            .setValue(Options.newBuilder().setConfigPath("/etc/kata/conf.toml").build().toByteString()).build();

    @TempDir
    Path dir;

    /** As containerd 2.3's pkg/shim Command writes it. */
    private static BootstrapParams.Builder bootstrap(String id, String namespace) {
        return BootstrapParams.newBuilder().setInstanceId(id).setNamespace(namespace).setLogLevel(LogLevel.LOG_LEVEL_DEBUG)
                .setContainerdVersion("v2.3.4").setContainerdGrpcAddress("/run/containerd/containerd.sock")
                .setContainerdTtrpcAddress("/run/containerd/containerd.sock.ttrpc").setContainerdBinary("/usr/bin/containerd")
                .setSocketDir("/run/containerd/s").addExtensions(Extension.newBuilder().setValue(OPTIONS));
    }

    @Test
    void containerd23sBootstrapParamsCarryTheOptionsAndTheLogLevel() {
        StartInput input = StartInput.decode(bootstrap("sb1", "k8s.io").build().toByteArray(), "sb1", "k8s.io");
        assertThat(input).isInstanceOf(StartInput.Bootstrap.class);
        assertThat(RuntimeOptions.configPath(input)).contains(Path.of("/etc/kata/conf.toml"));
        assertThat(input.logLevel()).hasValue(-4);
    }

    @Test
    void bootstrapParamsWithoutOurOptionsHaveNoConfigPath() {
        Any runc = Any.newBuilder().setTypeUrl("containerd.runc.v1.Options").build();
        BootstrapParams params = bootstrap("sb1", "ns").clearExtensions().addExtensions(Extension.newBuilder().setValue(runc)).build();
        assertThat(RuntimeOptions.configPath(StartInput.decode(params.toByteArray(), "sb1", "ns"))).isEmpty();
    }

    @Test
    void olderContainerdsSendTheOptionsAnyOrNothing() {
        StartInput input = StartInput.decode(OPTIONS.toByteArray(), "sb1", "ns");
        assertThat(input).isInstanceOf(StartInput.OptionsAny.class);
        assertThat(RuntimeOptions.configPath(input)).contains(Path.of("/etc/kata/conf.toml"));
        assertThat(input.logLevel()).isEmpty();
        assertThat(StartInput.decode(new byte[0], "sb1", "ns")).isInstanceOf(StartInput.Nothing.class);
        Any packed = Any.pack(Options.newBuilder().setConfigPath("/x.toml").build()); // type.googleapis.com/...
        assertThat(RuntimeOptions.configPath(StartInput.decode(packed.toByteArray(), "sb1", "ns"))).contains(Path.of("/x.toml"));
    }

    @Test
    void anAnyThatHappensToNameTheInstanceIsStillNoBootstrap() {
        // an Any's type_url and value are BootstrapParams' instance_id and namespace on the wire
        Any odd = Any.newBuilder().setTypeUrl("runtimeoptions.v1.Options").build();
        assertThat(StartInput.decode(odd.toByteArray(), "sb1", "ns")).isInstanceOf(StartInput.OptionsAny.class);
    }

    @Test
    void bootstrapParamsForAnotherInstanceOrNamespaceAreRefused() {
        byte[] otherId = bootstrap("sb2", "ns").build().toByteArray();
        assertThatThrownBy(() -> StartInput.decode(otherId, "sb1", "ns")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("BootstrapParams are for instance 'sb2' in namespace 'ns'")
                .hasMessageContaining("started with -id 'sb1' -namespace 'ns'");
        byte[] otherNamespace = bootstrap("sb1", "default").build().toByteArray();
        assertThatThrownBy(() -> StartInput.decode(otherNamespace, "sb1", "ns")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("namespace 'default'");
    }

    @Test
    void garbageIsNeitherForm() {
        for (byte[] garbage : new byte[][]{"not protobuf at all".getBytes(), {(byte) 0xff, (byte) 0xff, 0x01}, {0x0a, 0x05, 'a'}}) {
            assertThatThrownBy(() -> StartInput.decode(garbage, "sb1", "ns")).isInstanceOf(ConfigException.class)
                    .hasMessageContaining("is neither containerd's BootstrapParams for -id 'sb1' -namespace 'ns' nor runtime options");
        }
    }

    @Test
    void readsWhatTheLauncherSaved() throws Exception {
        Path saved = Files.write(dir.resolve("kata-shim-options.pb"), bootstrap("sb1", "ns").build().toByteArray());
        assertThat(RuntimeOptions.configPath(StartInput.read(saved, "sb1", "ns"))).isEqualTo(Optional.of(Path.of("/etc/kata/conf.toml")));
        assertThat(StartInput.read(dir.resolve("absent"), "sb1", "ns")).isInstanceOf(StartInput.Nothing.class);
    }
}
