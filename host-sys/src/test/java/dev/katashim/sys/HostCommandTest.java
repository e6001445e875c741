package dev.katashim.sys;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class HostCommandTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    @Test
    void whatItPrintedOnBothStreamsIsReturned() throws Exception {
        assertThat(HostCommand.run(List.of("sh", "-c", "echo out; echo err >&2"), TIMEOUT, "talk")).isEqualTo("out\nerr");
    }

    @Test
    void aFailureSaysWhatWasBeingDoneAndWhatTheToolSaid() {
        assertThatThrownBy(() -> HostCommand.run(List.of("sh", "-c", "echo no such device >&2; exit 32"), TIMEOUT, "mount /a on /b"))
                .isInstanceOf(IOException.class).hasMessage("cannot mount /a on /b: no such device");
        assertThatThrownBy(() -> HostCommand.run(List.of("sh", "-c", "exit 3"), TIMEOUT, "fail quietly"))
                .hasMessage("cannot fail quietly: exit status 3");
        assertThatThrownBy(() -> HostCommand.run(List.of("/nonexistent/tool"), TIMEOUT, "run a missing tool"))
                .hasMessageStartingWith("cannot run a missing tool: ").hasCauseInstanceOf(IOException.class);
    }

    @Test
    void stdinIsEmptySoAToolThatReadsItDoesNotWait() throws Exception {
        assertThat(HostCommand.run(List.of("cat"), Duration.ofSeconds(5), "read stdin")).isEmpty();
    }

    @Test
    void aToolThatHangsWithItsOutputOpenIsKilledAtTheTimeout(@TempDir Path dir) throws Exception {
        Path pidFile = dir.resolve("pid");
        long start = System.nanoTime();
        assertThatThrownBy(() -> HostCommand.run(List.of("sh", "-c", "echo $$ > " + pidFile + "; exec sleep 30"),
                Duration.ofMillis(500), "hang")).hasMessage("cannot hang: no answer within 500 ms");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
        long pid = Long.parseLong(Files.readString(pidFile).strip());
        ProcessHandle.of(pid).ifPresent(p -> p.onExit().orTimeout(5, TimeUnit.SECONDS).join());
        assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive)).isNotEqualTo(java.util.Optional.of(true));
    }

    @Test
    void anInterruptKillsTheToolAndKeepsTheFlag() throws Exception {
        CompletableFuture<String> outcome = new CompletableFuture<>();
        Thread caller = Thread.ofPlatform().start(() -> {
            try {
                HostCommand.run(List.of("sleep", "30"), TIMEOUT, "wait");
                outcome.complete("returned");
            } catch (IOException e) {
                outcome.complete(e.getMessage() + ", interrupted: " + Thread.currentThread().isInterrupted());
            }
        });
        Thread.sleep(200);
        caller.interrupt();
        assertThat(outcome.get(5, TimeUnit.SECONDS)).isEqualTo("interrupted while trying to wait, interrupted: true");
    }
}
