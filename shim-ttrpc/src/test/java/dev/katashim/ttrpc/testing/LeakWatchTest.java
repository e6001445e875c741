package dev.katashim.ttrpc.testing;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The leak check the fuzz tests rely on does see a leaked buffer. */
class LeakWatchTest {

    @Test
    void aBufferDroppedWithoutReleaseIsReported() {
        LeakWatch.start();
        leakOne();
        assertThat(LeakWatch.leaks()).anySatisfy(leak -> assertThat(leak).contains("ByteBuf").contains("leakOne"));
        LeakWatch.start();
        assertThat(LeakWatch.leaks()).isEmpty();
    }

    private static void leakOne() {
        ByteBuf buffer = ByteBufAllocator.DEFAULT.buffer(16);
        buffer.writeLong(42); // recorded by the paranoid detector: the report names this method
    }
}
