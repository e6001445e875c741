package dev.katashim.agent.guest;

import dev.katashim.agent.guest.support.AgentFixture;
import dev.katashim.agent.guest.support.Specs;
import dev.katashim.protocols.kata.agent.Process;
import dev.katashim.protocols.kata.agent.RemoveContainerRequest;
import dev.katashim.protocols.kata.agent.Spec;
import dev.katashim.protocols.kata.agent.TtyWinResizeRequest;
import dev.katashim.ttrpc.status.StatusCode;
import dev.katashim.ttrpc.status.TtrpcException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Terminals as containerd's clients drive them: Create, Start, and only then the first
 * ResizePty (TtyWinResize). A process that asks for its size at once sees the size sent, for an
 * init and for an exec (real runc, a real pty, busybox's stty).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class TerminalTest {
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

    private static Process terminal(String... args) {
        return Specs.process(args).toBuilder().setTerminal(true).build();
    }

    private static void resize(String id, String execId, int rows, int columns) throws InterruptedException {
        agent.call("TtyWinResize", TtyWinResizeRequest.newBuilder().setContainerId(id).setExecId(execId)
                .setRow(rows).setColumn(columns).build());
    }

    @Test
    void anInitAskingAtOnceSeesTheSizeSentRightAfterStart() throws Exception {
        // what `ctr run -t ... sh -c 'tty; stty size'` does
        agent.createAndStart("t", Specs.busybox(agent.rootfs, terminal("sh", "-c", "tty; stty size")).build());
        resize("t", "t", 33, 77);

        String out = agent.readAll("ReadStdout", "t", "t");
        assertThat(out).contains("/dev/pts/0").contains("33 77").doesNotContain("stty:");
        assertThat(agent.await("t", "t")).isZero();
    }

    @Test
    void anExecAskingAtOnceSeesTheSizeSentRightAfterIt() throws Exception {
        agent.createAndStart("e", Specs.busybox(agent.rootfs, "sleep", "300").build());
        agent.exec("e", "tty", terminal("stty", "size"));
        resize("e", "tty", 40, 100);

        assertThat(agent.readAll("ReadStdout", "e", "tty")).contains("40 100").doesNotContain("stty:");
        assertThat(agent.await("e", "tty")).isZero();

        // A later resize reaches the running process (SIGWINCH, then a new size).
        agent.exec("e", "tty2", terminal("sh", "-c", "trap 'stty size' WINCH; echo ready; while true; do sleep 0.05; done"));
        resize("e", "tty2", 24, 80);
        assertThat(readUntil("e", "tty2", "ready")).contains("ready");
        resize("e", "tty2", 50, 132);
        assertThat(readUntil("e", "tty2", "50 132")).contains("50 132");
    }

    @Test
    void withoutAnySizeTheProcessStartsAfterTheGracePeriod() throws Exception {
        long started = System.nanoTime();
        agent.createAndStart("g", Specs.busybox(agent.rootfs, terminal("sh", "-c", "echo ran; sleep 300")).build());
        assertThat(readUntil("g", "g", "ran")).contains("ran");
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started)).isGreaterThanOrEqualTo(900);

        started = System.nanoTime();
        agent.exec("g", "x", terminal("echo", "exec ran"));
        assertThat(agent.readAll("ReadStdout", "g", "x")).contains("exec ran");
        assertThat(agent.await("g", "x")).isZero();
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started)).isGreaterThanOrEqualTo(900);
    }

    @Test
    void aConsoleSizeInTheSpecNeedsNoResize() throws Exception {
        Process sized = terminal("stty", "size").toBuilder()
                .setConsoleSize(dev.katashim.protocols.kata.agent.Box.newBuilder().setHeight(12).setWidth(34)).build();
        long started = System.nanoTime();
        agent.createAndStart("s", Specs.busybox(agent.rootfs, sized).build());
        assertThat(agent.readAll("ReadStdout", "s", "s")).contains("12 34");
        assertThat(agent.await("s", "s")).isZero();
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started)).as("no grace period").isLessThan(900);
    }

    @Test
    void aContainerWaitingForItsSizeCanBeSignalledAndRemoved() throws Exception {
        agent.createAndStart("w", Specs.busybox(agent.rootfs, terminal("sleep", "300")).build());
        agent.exec("w", "waiting", terminal("sleep", "300"));
        agent.call("RemoveContainer", RemoveContainerRequest.newBuilder().setContainerId("w").build());
        agent.assertContainerGone("w");
    }

    @Test
    void anExecThatCannotRunTellsOnItsTerminalAndExitsWith255() throws Exception {
        agent.createAndStart("bad", Specs.busybox(agent.rootfs, "sleep", "300").build());
        agent.exec("bad", "nope", terminal("/no/such/program"));
        TtrpcException e = agent.failure("TtyWinResize", TtyWinResizeRequest.newBuilder().setContainerId("bad")
                .setExecId("nope").setRow(10).setColumn(10).build());
        assertThat(e.code()).isEqualTo(StatusCode.INTERNAL);
        assertThat(e.getMessage()).contains("cannot exec \"nope\"").contains("/no/such/program");
        assertThat(agent.readAll("ReadStdout", "bad", "nope")).contains("cannot exec \"nope\"");
        assertThat(agent.await("bad", "nope")).isEqualTo(255);
        agent.assertServing();
    }

    @Test
    void resizingAProcessWithoutTerminalOrBeyondASizeIsRefused() throws Exception {
        agent.createAndStart("p", Specs.busybox(agent.rootfs, "sleep", "300").build());
        TtrpcException e = agent.failure("TtyWinResize", TtyWinResizeRequest.newBuilder().setContainerId("p")
                .setExecId("p").setRow(10).setColumn(10).build());
        assertThat(e.code()).isEqualTo(StatusCode.FAILED_PRECONDITION);
        assertThat(e.getMessage()).contains("process \"p\" of container \"p\" has no terminal");

        agent.exec("p", "t", terminal("sleep", "300"));
        e = agent.failure("TtyWinResize", TtyWinResizeRequest.newBuilder().setContainerId("p")
                .setExecId("t").setRow(70_000).setColumn(10).build());
        assertThat(e.code()).isEqualTo(StatusCode.INVALID_ARGUMENT);
        assertThat(e.getMessage()).contains("70000 rows").contains("process \"t\" of container \"p\"");
        agent.assertServing();
    }

    private String readUntil(String id, String execId, String marker) throws InterruptedException {
        StringBuilder seen = new StringBuilder();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!seen.toString().contains(marker) && System.nanoTime() < deadline) {
            byte[] chunk = agent.readChunk("ReadStdout", id, execId, 1024);
            if (chunk.length == 0) {
                break;
            }
            seen.append(new String(chunk, java.nio.charset.StandardCharsets.UTF_8));
        }
        return seen.toString();
    }
}
