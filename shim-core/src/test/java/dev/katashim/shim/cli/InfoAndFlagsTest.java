package dev.katashim.shim.cli;

import ch.qos.logback.classic.Level;
import com.google.protobuf.Any;
import dev.katashim.protocols.containerd.types.RuntimeInfo;
import dev.katashim.protocols.runtimeoptions.v1.Options;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.OptionalInt;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code -info}, {@code -v} and the log level containerd asks for. */
class InfoAndFlagsTest {

    private record Ran(int status, byte[] out, String err) {
    }

    private static Ran info(byte[] stdin) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = InfoCommand.run(new ByteArrayInputStream(stdin), out, new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Ran(status, out.toByteArray(), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void infoWithoutOptionsNamesTheRuntimeAndItsOptionsType() throws Exception {
        Ran ran = info(new byte[0]);
        assertThat(ran.status()).isZero();
        RuntimeInfo info = RuntimeInfo.parseFrom(ran.out());
        assertThat(info.getName()).isEqualTo("io.containerd.kata.v2");
        assertThat(info.getVersion().getVersion()).isNotEmpty();
        assertThat(info.getOptions().getTypeUrl()).isEqualTo("runtimeoptions.v1.Options");
        assertThat(Options.parseFrom(info.getOptions().getValue())).isEqualTo(Options.getDefaultInstance());
        assertThat(info.hasFeatures()).isFalse();
    }

    @Test
    void infoEchoesTheOptionsItUnderstood() throws Exception {
        Options options = Options.newBuilder().setConfigPath("/etc/kata/c.toml").build();
        Ran ran = info(Any.newBuilder().setTypeUrl("runtimeoptions.v1.Options").setValue(options.toByteString()).build().toByteArray());
        assertThat(ran.status()).isZero();
        assertThat(Options.parseFrom(RuntimeInfo.parseFrom(ran.out()).getOptions().getValue()).getConfigPath()).isEqualTo("/etc/kata/c.toml");
    }

    @Test
    void infoRefusesGarbageAndForeignOptions() {
        Ran garbage = info("\u00ff\u00ffnot an any".getBytes(StandardCharsets.ISO_8859_1));
        assertThat(garbage.status()).isEqualTo(1);
        assertThat(garbage.out()).isEmpty();
        assertThat(garbage.err()).contains("-info").contains("is not runtime options");

        Ran runc = info(Any.newBuilder().setTypeUrl("containerd.runc.v1.Options").build().toByteArray());
        assertThat(runc.status()).isEqualTo(1);
        assertThat(runc.err()).contains("runtime options of type 'containerd.runc.v1.Options'").contains("runtimeoptions.v1.Options");

        Ran badValue = info(Any.newBuilder().setTypeUrl("runtimeoptions.v1.Options")
                .setValue(com.google.protobuf.ByteString.copyFrom(new byte[]{0x12, 0x7f})).build().toByteArray());
        assertThat(badValue.status()).isEqualTo(1);
        assertThat(badValue.err()).contains("cannot decode the runtime options");
    }

    @Test
    void boolFlagsAsGoParsesThem() {
        assertThat(ShimArgs.parse(new String[]{"-info"}).info()).isTrue();
        assertThat(ShimArgs.parse(new String[]{"-v"}).version()).isTrue();
        assertThat(ShimArgs.parse(new String[]{"--version"}).version()).isTrue();
        ShimArgs start = ShimArgs.parse(new String[]{"-namespace", "k8s.io", "-id", "x", "-debug", "start"});
        assertThat(start.debug()).isTrue();
        assertThat(start.info() || start.version()).isFalse();
        assertThat(start.command()).isEqualTo("start");
        assertThat(ShimVersion.current().banner()).startsWith("containerd-shim-kata-v2:\n").contains("io.containerd.kata.v2");
    }

    @Test
    void logLevelFromContainerd() {
        assertThat(ShimLogLevel.of(false, OptionalInt.of(-4))).contains(Level.DEBUG);
        assertThat(ShimLogLevel.of(false, OptionalInt.of(-8))).contains(Level.TRACE);
        assertThat(ShimLogLevel.of(false, OptionalInt.of(-6))).contains(Level.DEBUG);
        assertThat(ShimLogLevel.of(true, OptionalInt.of(0))).contains(Level.INFO);
        assertThat(ShimLogLevel.of(false, OptionalInt.of(4))).contains(Level.WARN);
        assertThat(ShimLogLevel.of(false, OptionalInt.of(12))).contains(Level.ERROR);
        assertThat(ShimLogLevel.of(true, OptionalInt.empty())).contains(Level.DEBUG);
        assertThat(ShimLogLevel.of(false, OptionalInt.empty())).isEqualTo(Optional.empty());
    }
}
