package dev.katashim.ttrpc.testing;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.util.ResourceLeakDetector;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Makes Netty's leak detector fail a test instead of only logging. With
 * {@code -Dio.netty.leakDetection.level=paranoid} (every test JVM of this build) every ByteBuf is
 * tracked; a buffer collected while still retained is reported the next time a buffer is allocated.
 * {@link #leaks()} collects garbage, allocates to drain the detector's queue, and returns what it
 * reported since {@link #start()}.
 */
public final class LeakWatch {
    private static final List<String> reported = new CopyOnWriteArrayList<>();
    private static boolean installed;

    private LeakWatch() {
    }

    /** Starts listening (once per JVM) and forgets leaks reported so far; fails unless detection is paranoid. */
    public static synchronized void start() {
        if (ResourceLeakDetector.getLevel() != ResourceLeakDetector.Level.PARANOID) {
            throw new IllegalStateException("run with -Dio.netty.leakDetection.level=paranoid: the leak check would see nothing");
        }
        if (!installed) {
            byteBufDetector().setLeakListener((type, records) -> reported.add(type + ": " + records));
            installed = true;
        }
        drain();
        reported.clear();
    }

    /** The leaks Netty reported since {@link #start()}, after giving the collector its chance. */
    public static List<String> leaks() {
        for (int round = 0; round < 5; round++) {
            System.gc();
            drain();
        }
        return new ArrayList<>(reported);
    }

    /** Each tracked allocation polls the detector's queue of collected buffers. */
    private static void drain() {
        for (ByteBufAllocator allocator : List.of(ByteBufAllocator.DEFAULT, io.netty.buffer.UnpooledByteBufAllocator.DEFAULT)) {
            ByteBuf probe = allocator.directBuffer(1);
            probe.release();
            probe = allocator.heapBuffer(1);
            probe.release();
        }
    }

    /** The detector every ByteBuf reports to (package-private in Netty: there is one per JVM). */
    @SuppressWarnings("unchecked")
    private static ResourceLeakDetector<ByteBuf> byteBufDetector() {
        try {
            var field = Class.forName("io.netty.buffer.AbstractByteBuf").getDeclaredField("leakDetector");
            field.setAccessible(true);
            return (ResourceLeakDetector<ByteBuf>) field.get(null);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot reach Netty's ByteBuf leak detector", e);
        }
    }
}
