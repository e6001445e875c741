package dev.katashim.shim.sandbox;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** A guest that floods its console cannot fill the host: the log is emptied past its limit, and the writer goes on. */
class ConsoleLogLimitTest {
    /** Generous: the watcher checks every second, the machine may be busy. */
    private static final Duration UNDER_LOAD_DEADLINE = Duration.ofSeconds(30);

    @Test
    void aConsoleLogOverItsLimitIsEmptiedAndTheGuestWritesOnAtItsStart(@TempDir Path dir) throws Exception {
        Path console = dir.resolve("console.log");
        // opened as QEMU opens it with append=on
        try (FileChannel guest = FileChannel.open(console, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
            byte[] flood = new byte[256 << 10];
            java.util.Arrays.fill(flood, (byte) 'x');
            for (int i = 0; i < 12; i++) { // 3 MiB, three times the limit
                guest.write(ByteBuffer.wrap(flood));
            }
            // the flood is written before the limit watches: a check in the middle of it would
            // empty the file and leave the rest of the flood, under the limit, in place
            try (ConsoleLogLimit ignored = ConsoleLogLimit.start("sb", console, 1 << 20)) {
                await().atMost(UNDER_LOAD_DEADLINE).until(() -> Files.size(console) == 0);
                guest.write(ByteBuffer.wrap("after\n".getBytes()));
                assertThat(Files.readString(console)).isEqualTo("after\n");
            }
        }
    }

    @Test
    void aConsoleLogWithinItsLimitIsLeftAlone(@TempDir Path dir) throws Exception {
        Path console = Files.writeString(dir.resolve("console.log"), "Linux version 6.1\n");
        try (ConsoleLogLimit ignored = ConsoleLogLimit.start("sb", console, 1 << 20)) {
            Thread.sleep(ConsoleLogLimit.CHECK.multipliedBy(2).toMillis());
            assertThat(Files.readString(console)).isEqualTo("Linux version 6.1\n");
        }
    }
}
