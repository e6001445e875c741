package dev.katashim.vmm.qmp;

import com.fasterxml.jackson.databind.JsonNode;
import dev.katashim.vmm.testing.Commands;
import dev.katashim.vmm.testing.TestSandboxes;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The QMP client against a real QEMU with no guest ({@code -machine none}, paused with {@code -S}).
 * A QEMU that stops answering is made for real with SIGSTOP.
 */
@ExtendWith(TestSandboxes.class)
class QmpClientTest {
    private Process qemu;
    private Path socket;
    private QmpClient qmp;

    @BeforeEach
    void startQemu() throws Exception {
        Path dir = TestSandboxes.newSandbox("qmp");
        socket = dir.resolve("qmp.sock");
        qemu = new ProcessBuilder("/usr/bin/qemu-system-x86_64", "-machine", "none", "-nodefaults", "-nographic", "-S",
                "-qmp", "unix:" + socket + ",server=on,wait=off")
                .redirectErrorStream(true).redirectOutput(dir.resolve("qemu.log").toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(socket) || !qemu.isAlive());
        qmp = QmpClient.connect(socket, Duration.ofSeconds(10));
    }

    @AfterEach
    void stopQemu() throws Exception {
        if (qmp != null) {
            qmp.close();
        }
        if (qemu.isAlive()) {
            Commands.run(Path.of("/"), List.of("kill", "-CONT", Long.toString(qemu.pid())));
            qemu.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void greetsAndNegotiatesCapabilities() throws Exception {
        assertThat(qmp.greeting().major()).isGreaterThanOrEqualTo(7);
        assertThat(qmp.greeting().capabilities()).contains("oob");
        assertThat(qmp.queryStatus()).isEqualTo(new VmStatus("prelaunch", false));
    }

    @Test
    void concurrentCommandsGetTheirOwnRepliesById() throws Exception {
        List<CompletableFuture<Boolean>> calls = new ArrayList<>();
        try (var threads = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < 60; i++) {
                int kind = i % 3;
                calls.add(CompletableFuture.supplyAsync(() -> {
                    try {
                        return switch (kind) {
                            case 0 -> qmp.queryStatus().status().equals("prelaunch");
                            case 1 -> qmp.execute("query-version").has("qemu");
                            default -> qmp.execute("query-name").isObject();
                        };
                    } catch (Exception e) {
                        throw new RuntimeException(e);
                    }
                }, threads));
            }
            for (CompletableFuture<Boolean> call : calls) {
                assertThat(call.get(10, TimeUnit.SECONDS)).isTrue();
            }
        }
    }

    @Test
    void anErrorReplyNamesCommandClassAndSocket() {
        assertThatThrownBy(() -> qmp.execute("no-such-command"))
                .isInstanceOfSatisfying(QmpException.ErrorResponse.class, e -> assertThat(e.errorClass()).isEqualTo("CommandNotFound"))
                .hasMessageContaining("no-such-command").hasMessageContaining(socket.toString());
    }

    @Test
    void underTcgOrNoAcceleratorQueryStatsHasNoVcpuCounters() throws Exception {
        assertThat(qmp.queryVcpuStats()).isEmpty();
        assertThat(qmp.queryCpusFast()).isEmpty(); // machine none: no vCPU at all
    }

    @Test
    void eventsReachListeners() throws Exception {
        List<QmpEvent> events = new CopyOnWriteArrayList<>();
        qmp.addEventListener(events::add);
        qmp.execute("cont");
        qmp.execute("stop");
        await().atMost(Duration.ofSeconds(5)).until(() -> events.stream().anyMatch(e -> e instanceof QmpEvent.Stop));
        assertThat(events).anySatisfy(e -> assertThat(e.name()).isEqualTo("RESUME"));
    }

    @Test
    void aCommandThatGetsNoReplyTimesOut() throws Exception {
        Commands.run(Path.of("/"), List.of("kill", "-STOP", Long.toString(qemu.pid())));
        assertThatThrownBy(() -> qmp.execute("query-status", Map.of(), Duration.ofMillis(300)))
                .isInstanceOf(QmpException.Timeout.class)
                .hasMessageContaining("query-status").hasMessageContaining("300 ms").hasMessageContaining(socket.toString());
    }

    @Test
    void closingFailsWhatIsPendingAndLaterCommands() throws Exception {
        Commands.run(Path.of("/"), List.of("kill", "-STOP", Long.toString(qemu.pid())));
        CompletableFuture<JsonNode> pending = CompletableFuture.supplyAsync(() -> {
            try {
                return qmp.execute("query-status", Map.of(), Duration.ofSeconds(30));
            } catch (Exception e) {
                throw new java.util.concurrent.CompletionException(e);
            }
        });
        Thread.sleep(200);
        qmp.close();
        assertThatThrownBy(() -> pending.get(5, TimeUnit.SECONDS)).hasCauseInstanceOf(QmpException.ConnectionClosed.class);
        assertThat(qmp.closed()).isDone();
        assertThatThrownBy(() -> qmp.queryStatus()).isInstanceOf(QmpException.ConnectionClosed.class);
    }

    @Test
    void quitEndsQemuAndTheConnection() throws Exception {
        qmp.quit(Duration.ofSeconds(5));
        assertThat(qemu.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(qemu.exitValue()).isZero();
        qmp.closed().get(5, TimeUnit.SECONDS);
    }
}
