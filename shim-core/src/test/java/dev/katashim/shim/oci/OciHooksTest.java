package dev.katashim.shim.oci;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.katashim.ttrpc.status.StatusCode;
import dev.katashim.ttrpc.status.TtrpcException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Hooks run on the host with the state on stdin; a failing or hanging one fails with its output. */
class OciHooksTest {
    @TempDir
    Path dir;

    private Bundle bundle(String hooks) throws Exception {
        String json = "{\"ociVersion\":\"1.1.0\",\"process\":{\"args\":[\"/bin/true\"]},\"annotations\":{\"a\":\"b\"},\"hooks\":" + hooks + "}";
        Files.writeString(dir.resolve("config.json"), json);
        return new Bundle(dir, new ObjectMapper().readTree(json));
    }

    @Test
    void aHookGetsTheStateOnStdinAndItsEnvironment() throws Exception {
        Path out = dir.resolve("state.json");
        Bundle bundle = bundle("{\"prestart\":[{\"path\":\"/bin/sh\",\"args\":[\"sh\",\"-c\",\"cat > " + out + "; echo $GREETING >> " + out + "\"],"
                + "\"env\":[\"GREETING=hello\"]}]}");
        OciHooks.run(bundle, List.of(OciHooks.Point.PRESTART, OciHooks.Point.CREATE_RUNTIME), "c1", "creating", 77);
        String written = Files.readString(out);
        assertThat(written).contains("\"id\":\"c1\"", "\"status\":\"creating\"", "\"pid\":77", "\"bundle\":\"" + dir + "\"",
                "\"annotations\":{\"a\":\"b\"}", "\"ociVersion\":\"1.1.0\"").endsWith("hello\n");
    }

    @Test
    void aFailingHookNamesItselfItsStatusAndOutput() throws Exception {
        Bundle bundle = bundle("{\"createRuntime\":[{\"path\":\"/bin/sh\",\"args\":[\"sh\",\"-c\",\"echo no network for you; exit 3\"]}]}");
        assertThatThrownBy(() -> OciHooks.run(bundle, List.of(OciHooks.Point.PRESTART, OciHooks.Point.CREATE_RUNTIME), "c1", "creating", 1))
                .isInstanceOfSatisfying(TtrpcException.class, e -> {
                    assertThat(e.code()).isEqualTo(StatusCode.FAILED_PRECONDITION);
                    assertThat(e.getMessage()).contains("createRuntime hook /bin/sh", "exit status 3", "no network for you");
                });
    }

    @Test
    void aHangingHookIsKilledAtItsTimeout() throws Exception {
        Bundle bundle = bundle("{\"prestart\":[{\"path\":\"/bin/sh\",\"args\":[\"sh\",\"-c\",\"echo waiting; sleep 600\"],\"timeout\":1}]}");
        assertThatThrownBy(() -> OciHooks.run(bundle, List.of(OciHooks.Point.PRESTART), "c1", "creating", 1))
                .isInstanceOfSatisfying(TtrpcException.class, e -> assertThat(e.getMessage()).contains("timed out after 1 s", "waiting"));
    }

    @Test
    void onlyTheAskedPointsRun() throws Exception {
        Bundle bundle = bundle("{\"poststop\":[{\"path\":\"/bin/false\"}]}");
        OciHooks.run(bundle, List.of(OciHooks.Point.PRESTART, OciHooks.Point.POSTSTART), "c1", "running", 1);
        assertThatThrownBy(() -> OciHooks.run(bundle, List.of(OciHooks.Point.POSTSTOP), "c1", "stopped", 1)).isInstanceOf(TtrpcException.class);
    }
}
