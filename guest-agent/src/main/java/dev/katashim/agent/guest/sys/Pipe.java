package dev.katashim.agent.guest.sys;

import java.io.File;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * A pipe(2) whose ends are plain descriptors of this process (close-on-exec), so that a child
 * can be given one end by path ({@link #path}) while this JVM keeps the other for as long as it
 * likes: unlike {@link Process}'s streams, which the JVM closes when the child it started exits.
 */
public record Pipe(int readEnd, int writeEnd) {
    private static final int O_CLOEXEC = 0x80000;
    private static final MethodHandle PIPE2 = Native.function("pipe2", ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT);

    public static Pipe open() throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(Native.CAPTURE);
            MemorySegment fds = arena.allocate(ValueLayout.JAVA_INT, 2);
            if ((int) PIPE2.invokeExact(state, fds, O_CLOEXEC) != 0) {
                throw Native.failure("pipe2", Native.errno(state));
            }
            return new Pipe(fds.getAtIndex(ValueLayout.JAVA_INT, 0), fds.getAtIndex(ValueLayout.JAVA_INT, 1));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** A path that opens the same pipe end again: what a {@link ProcessBuilder} redirect can name. */
    public static File path(int fd) {
        return new File("/proc/self/fd/" + fd);
    }
}
