package dev.katashim.shim.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;

/** Where one output stream's bytes are written; a write takes all of {@code data} or throws. */
@FunctionalInterface
interface ByteSink {

    void write(byte[] data) throws IOException;

    /**
     * Writes whole chunks to {@code channel} under {@code lock}: two streams sharing one file (stdout and
     * stderr into a {@code file://} log) never interleave inside a chunk.
     */
    static ByteSink serialized(WritableByteChannel channel, Object lock) {
        return data -> {
            synchronized (lock) {
                ByteBuffer buffer = ByteBuffer.wrap(data);
                while (buffer.hasRemaining()) {
                    channel.write(buffer);
                }
            }
        };
    }
}
