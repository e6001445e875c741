package dev.katashim.shim.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class OutputTargetTest {

    private static OutputTarget stdout(String stdout) {
        return OutputTarget.of(new StdioSpec("", stdout, "/run/fifo/err", false));
    }

    @Test
    void emptyAndPlainPathsAreFifosAndATerminalDropsStderr() {
        assertThat(OutputTarget.of(new StdioSpec("", "", "", false)))
                .isEqualTo(new OutputTarget.Fifos(null, null));
        assertThat(OutputTarget.of(new StdioSpec("", "/run/fifo/out put", "/run/fifo/err", false)))
                .isEqualTo(new OutputTarget.Fifos(Path.of("/run/fifo/out put"), Path.of("/run/fifo/err")));
        assertThat(OutputTarget.of(new StdioSpec("", "/run/fifo/out", "/run/fifo/err", true)))
                .isEqualTo(new OutputTarget.Fifos(Path.of("/run/fifo/out"), null));
        // Go's getScheme: a leading digit means "no scheme", so this is a (relative) path
        assertThat(stdout("1fifo:x")).isEqualTo(new OutputTarget.Fifos(Path.of("1fifo:x"), Path.of("/run/fifo/err")));
    }

    @Test
    void fifoSchemeUsesTheUnescapedPath() {
        assertThat(OutputTarget.of(new StdioSpec("", "fifo:///run/a%20b", "fifo:///run/c", false)))
                .isEqualTo(new OutputTarget.Fifos(Path.of("/run/a b"), Path.of("/run/c")));
        assertThat(OutputTarget.fifoPath("fifo:///run/in", "stdin")).isEqualTo(Path.of("/run/in"));
        assertThat(OutputTarget.fifoPath("", "stdin")).isNull();
        assertThatThrownBy(() -> OutputTarget.fifoPath("file:///x", "stdin"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("stdin must be a FIFO path, got file:///x");
    }

    @Test
    void binaryQueryParametersBecomeKeyThenFirstValueArguments() {
        assertThat(stdout("binary:///usr/bin/logger?id=x&flag&a=1&a=2&b=c+d%2Fe#frag")).isEqualTo(
                new OutputTarget.BinaryLogger(Path.of("/usr/bin/logger"),
                        java.util.List.of("id", "x", "flag", "", "a", "1", "b", "c d/e")));
    }

    @Test
    void malformedQueryPairsAreSkippedAsGoDoes() {
        assertThat(stdout("binary:///opt/log%20ger?ok=1&bad=%zz&semi;colon=2&&=empty")).isEqualTo(
                new OutputTarget.BinaryLogger(Path.of("/opt/log ger"), java.util.List.of("ok", "1", "", "empty")));
    }

    @Test
    void fileSchemeTakesStderrOnlyWithoutATerminal() {
        assertThat(OutputTarget.of(new StdioSpec("", "file:///var/log/c.log", "file:///var/log/c.log", false)))
                .isEqualTo(new OutputTarget.LogFile(Path.of("/var/log/c.log"), true));
        assertThat(OutputTarget.of(new StdioSpec("", "FILE:///var/log/c.log", "file:///var/log/c.log", true)))
                .isEqualTo(new OutputTarget.LogFile(Path.of("/var/log/c.log"), false));
        assertThat(OutputTarget.of(new StdioSpec("", "file:///var/log/c.log", "", false)))
                .isEqualTo(new OutputTarget.LogFile(Path.of("/var/log/c.log"), false));
    }

    @Test
    void unusableStringsAreClearErrors() {
        assertThatThrownBy(() -> stdout("syslog://host/x"))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("unknown STDIO scheme syslog");
        assertThatThrownBy(() -> stdout("binary:logger"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("binary logger URI needs an absolute path: binary:logger");
        assertThatThrownBy(() -> stdout("file:///var/%zz"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("unable to parse stdout uri file:///var/%zz");
        assertThatThrownBy(() -> stdout(":x"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("unable to parse stdout uri :x: missing protocol scheme");
    }
}
