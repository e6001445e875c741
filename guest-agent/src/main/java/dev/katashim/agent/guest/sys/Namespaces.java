package dev.katashim.agent.guest.sys;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * Persistent namespaces: new IPC and UTS namespaces made on a thread of their own and kept alive
 * by bind mounts onto files, which runc then joins by path (as upstream's agent shares them
 * between a sandbox's containers). The calling process's own namespaces do not change.
 */
public final class Namespaces {
    private static final int CLONE_NEWUTS = 0x04000000;
    private static final int CLONE_NEWIPC = 0x08000000;
    private static final int O_RDONLY_CLOEXEC = 0x80000;
    private static final long MS_BIND = 0x1000;
    private static final int MNT_DETACH = 2;

    private static final MethodHandle UNSHARE = Native.function("unshare", ValueLayout.JAVA_INT, ValueLayout.JAVA_INT);
    private static final MethodHandle SETNS = Native.function("setns", ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT);
    private static final MethodHandle SETHOSTNAME = Native.function("sethostname", ValueLayout.JAVA_INT,
            ValueLayout.ADDRESS, ValueLayout.JAVA_LONG);
    private static final MethodHandle OPEN = Native.variadic("open", 2, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT);
    private static final MethodHandle CLOSE = Native.function("close", ValueLayout.JAVA_INT, ValueLayout.JAVA_INT);
    private static final MethodHandle MOUNT = Native.function("mount", ValueLayout.JAVA_INT,
            ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.ADDRESS);
    private static final MethodHandle UMOUNT2 = Native.function("umount2", ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT);

    private Namespaces() {
    }

    /**
     * Makes a new IPC and a new UTS namespace (its hostname {@code hostname}, unless empty) and
     * binds them on {@code ipcFile} and {@code utsFile}, which must exist. Done on a short-lived
     * platform thread that returns to its original namespaces before it ends, so that no thread
     * the JVM starts from it inherits them.
     */
    public static void createPersistent(Path ipcFile, Path utsFile, String hostname) throws IOException, InterruptedException {
        CompletableFuture<Void> done = new CompletableFuture<>();
        Thread.ofPlatform().name("sandbox-namespaces").start(() -> {
            try {
                unshareAndBind(ipcFile, utsFile, hostname);
                done.complete(null);
            } catch (Throwable t) {
                done.completeExceptionally(t);
            }
        });
        try {
            done.get();
        } catch (ExecutionException e) {
            throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
        }
    }

    private static void unshareAndBind(Path ipcFile, Path utsFile, String hostname) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(Native.CAPTURE);
            int originalIpc = open(arena, state, "/proc/thread-self/ns/ipc");
            int originalUts = open(arena, state, "/proc/thread-self/ns/uts");
            try {
                check((int) UNSHARE.invokeExact(state, CLONE_NEWIPC | CLONE_NEWUTS), state, "unshare(CLONE_NEWIPC|CLONE_NEWUTS)");
                try {
                    if (!hostname.isEmpty()) {
                        MemorySegment name = arena.allocateFrom(hostname);
                        check((int) SETHOSTNAME.invokeExact(state, name, (long) hostname.getBytes().length), state,
                                "sethostname(" + hostname + ")");
                    }
                    bind(arena, state, "/proc/thread-self/ns/ipc", ipcFile);
                    bind(arena, state, "/proc/thread-self/ns/uts", utsFile);
                } finally {
                    check((int) SETNS.invokeExact(state, originalIpc, CLONE_NEWIPC), state, "setns back to the IPC namespace");
                    check((int) SETNS.invokeExact(state, originalUts, CLONE_NEWUTS), state, "setns back to the UTS namespace");
                }
            } finally {
                int ignored = (int) CLOSE.invokeExact(state, originalIpc);
                ignored = (int) CLOSE.invokeExact(state, originalUts);
            }
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** Detaches the bind mount that keeps a persistent namespace alive (the namespace ends with its last user). */
    public static void release(Path file) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(Native.CAPTURE);
            check((int) UMOUNT2.invokeExact(state, arena.allocateFrom(file.toString()), MNT_DETACH), state, "umount " + file);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    private static int open(Arena arena, MemorySegment state, String path) throws Throwable {
        int fd = (int) OPEN.invokeExact(state, arena.allocateFrom(path), O_RDONLY_CLOEXEC);
        check(fd < 0 ? -1 : 0, state, "open " + path);
        return fd;
    }

    private static void bind(Arena arena, MemorySegment state, String source, Path target) throws Throwable {
        check((int) MOUNT.invokeExact(state, arena.allocateFrom(source), arena.allocateFrom(target.toString()),
                MemorySegment.NULL, MS_BIND, MemorySegment.NULL), state, "bind " + source + " on " + target);
    }

    private static void check(int rc, MemorySegment state, String what) throws IOException {
        if (rc != 0) {
            throw Native.failure(what, Native.errno(state));
        }
    }
}
