package dev.katashim.ttrpc.testing;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The leak check the fuzz tests rely on does see a leaked buffer. */
class LeakWatchTest {
    /** How long the collector may take to hand a dropped buffer over, on a machine with both cores busy. */
    private static final Duration UNDER_LOAD_DEADLINE = Duration.ofSeconds(60);

    @Test
    void aBufferDroppedWithoutReleaseIsReported() {
        LeakWatch.start();
        leakOne();
        // the collector hands the dropped buffer to the detector on its own time (the JVM's Reference
        // Handler thread, which a busy machine may not run at once): ask until it has
        List<String> leaks = await().atMost(UNDER_LOAD_DEADLINE).until(LeakWatch::leaks, l -> !l.isEmpty());
        assertThat(leaks).anySatisfy(leak -> assertThat(leak).contains("ByteBuf").contains("leakOne"));
        LeakWatch.start();
        assertThat(LeakWatch.leaks()).isEmpty();
    }

    private static void leakOne() {
        ByteBuf buffer = ByteBufAllocator.DEFAULT.buffer(16);
        buffer.writeLong(42); // recorded by the paranoid detector: the report names this method
    }
}
