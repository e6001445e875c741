package dev.katashim.agent.guest.sys;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * The few libc calls Java has no API for (Linux x86_64/aarch64, through the FFM API): signals
 * other than TERM/KILL, and file descriptors that arrive over a unix socket (runc's console socket).
 * Each call reports failure as an {@link IOException} naming errno. Native calls pin their thread,
 * so blocking ones ({@link #read}, {@link #accept}) belong on platform threads.
 */
public final class Libc {
    public static final int EINTR = 4;
    public static final int ESRCH = 3;
    public static final int EIO = 5;
    public static final int EAGAIN = 11;

    private static final int AF_UNIX = 1;
    private static final int SOCK_STREAM = 1;
    private static final int SOCK_CLOEXEC = 0x80000;
    private static final int SOL_SOCKET = 1;
    private static final int SCM_RIGHTS = 1;
    private static final short POLLIN = 0x1;
    private static final long TIOCSWINSZ = 0x5414;
    private static final int SUN_PATH_LENGTH = 108;

    private static final Linker LINKER = Native.LINKER;
    private static final StructLayout CAPTURE = Native.CAPTURE;

    private static final MethodHandle KILL = function("kill", ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT);
    private static final MethodHandle SOCKET = function("socket", ValueLayout.JAVA_INT,
            ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT);
    private static final MethodHandle BIND = function("bind", ValueLayout.JAVA_INT,
            ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT);
    private static final MethodHandle LISTEN = function("listen", ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT);
    private static final MethodHandle ACCEPT4 = function("accept4", ValueLayout.JAVA_INT,
            ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_INT);
    private static final MethodHandle POLL = function("poll", ValueLayout.JAVA_INT,
            ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT);
    private static final MethodHandle RECVMSG = function("recvmsg", ValueLayout.JAVA_LONG,
            ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT);
    private static final MethodHandle READ = function("read", ValueLayout.JAVA_LONG,
            ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG);
    private static final MethodHandle WRITE = function("write", ValueLayout.JAVA_LONG,
            ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG);
    private static final MethodHandle CLOSE = function("close", ValueLayout.JAVA_INT, ValueLayout.JAVA_INT);
    // ioctl(2) is variadic: the linker must pass its third argument as a variadic one
    private static final MethodHandle IOCTL_PTR = Native.variadic("ioctl", 2, ValueLayout.JAVA_INT,
            ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.ADDRESS);
    private static final MethodHandle SETTIMEOFDAY = function("settimeofday", ValueLayout.JAVA_INT,
            ValueLayout.ADDRESS, ValueLayout.ADDRESS);
    private static final MethodHandle PRCTL = LINKER.downcallHandle(LINKER.defaultLookup().find("prctl").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG),
            Linker.Option.firstVariadicArg(1), Linker.Option.captureCallState("errno"));
    private static final MethodHandle WAITPID = function("waitpid", ValueLayout.JAVA_INT,
            ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT);

    private Libc() {
    }

    private static MethodHandle function(String name, ValueLayout result, ValueLayout... args) {
        return Native.function(name, result, args);
    }

    /** Sends {@code signal} to {@code pid}; false if the process no longer exists (ESRCH). */
    public static boolean kill(long pid, int signal) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            int rc = (int) KILL.invokeExact(state, (int) pid, signal);
            if (rc == 0) {
                return true;
            }
            int errno = errno(state);
            if (errno == ESRCH) {
                return false;
            }
            throw failure("kill(" + pid + ", " + signal + ")", errno);
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** A listening unix stream socket bound to {@code path}; returns its descriptor. */
    public static int listenUnix(String path) throws IOException {
        byte[] name = path.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        if (name.length >= SUN_PATH_LENGTH) {
            throw new IOException("unix socket path too long (" + name.length + " bytes): " + path);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            int fd = (int) SOCKET.invokeExact(state, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
            if (fd < 0) {
                throw failure("socket", errno(state));
            }
            MemorySegment address = arena.allocate(2 + SUN_PATH_LENGTH);
            address.set(ValueLayout.JAVA_SHORT, 0, (short) AF_UNIX);
            MemorySegment.copy(name, 0, address, ValueLayout.JAVA_BYTE, 2, name.length);
            if ((int) BIND.invokeExact(state, fd, address, 2 + SUN_PATH_LENGTH) != 0) {
                int errno = errno(state);
                close(fd);
                throw failure("bind " + path, errno);
            }
            if ((int) LISTEN.invokeExact(state, fd, 1) != 0) {
                int errno = errno(state);
                close(fd);
                throw failure("listen " + path, errno);
            }
            return fd;
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** Waits up to {@code timeoutMillis} for {@code fd} to become readable (or to accept). */
    public static boolean pollReadable(int fd, int timeoutMillis) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            MemorySegment pollfd = arena.allocate(8);
            pollfd.set(ValueLayout.JAVA_INT, 0, fd);
            pollfd.set(ValueLayout.JAVA_SHORT, 4, POLLIN);
            int rc = (int) POLL.invokeExact(state, pollfd, 1L, timeoutMillis);
            if (rc < 0) {
                int errno = errno(state);
                if (errno == EINTR) {
                    return false;
                }
                throw failure("poll", errno);
            }
            return rc > 0;
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** Accepts one connection on a listening socket. */
    public static int accept(int listenFd) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            int fd = (int) ACCEPT4.invokeExact(state, listenFd, MemorySegment.NULL, MemorySegment.NULL, SOCK_CLOEXEC);
            if (fd < 0) {
                throw failure("accept", errno(state));
            }
            return fd;
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** Receives one message carrying a file descriptor (SCM_RIGHTS); returns that descriptor. */
    public static int receiveFd(int socketFd) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            MemorySegment data = arena.allocate(4096);
            MemorySegment iov = arena.allocate(16, 8);
            iov.set(ValueLayout.ADDRESS, 0, data);
            iov.set(ValueLayout.JAVA_LONG, 8, data.byteSize());
            // CMSG_SPACE(sizeof(int)) on LP64: a 16-byte header plus the int, padded to 8.
            MemorySegment control = arena.allocate(24, 8);
            MemorySegment msg = arena.allocate(56, 8);
            msg.set(ValueLayout.ADDRESS, 16, iov);
            msg.set(ValueLayout.JAVA_LONG, 24, 1L);
            msg.set(ValueLayout.ADDRESS, 32, control);
            msg.set(ValueLayout.JAVA_LONG, 40, control.byteSize());
            long n;
            int errno;
            do {
                n = (long) RECVMSG.invokeExact(state, socketFd, msg, 0x40000000 /* MSG_CMSG_CLOEXEC */);
                errno = n < 0 ? errno(state) : 0;
            } while (n < 0 && errno == EINTR);
            if (n < 0) {
                throw failure("recvmsg", errno);
            }
            long controlLength = msg.get(ValueLayout.JAVA_LONG, 40);
            if (controlLength < 20 || control.get(ValueLayout.JAVA_INT, 8) != SOL_SOCKET
                    || control.get(ValueLayout.JAVA_INT, 12) != SCM_RIGHTS) {
                throw new IOException("the console socket peer sent no file descriptor");
            }
            return control.get(ValueLayout.JAVA_INT, 16);
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** Reads up to {@code buffer.length} bytes; -1 at end of file (EOF, or EIO from a pty whose other side closed). */
    public static int read(int fd, byte[] buffer) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            MemorySegment native_ = arena.allocate(buffer.length);
            while (true) {
                long n = (long) READ.invokeExact(state, fd, native_, (long) buffer.length);
                if (n > 0) {
                    MemorySegment.copy(native_, ValueLayout.JAVA_BYTE, 0, buffer, 0, (int) n);
                    return (int) n;
                }
                if (n == 0) {
                    return -1;
                }
                int errno = errno(state);
                if (errno == EINTR) {
                    continue;
                }
                if (errno == EIO) {
                    return -1;
                }
                throw failure("read", errno);
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** Writes all of {@code data}. */
    public static void writeFully(int fd, byte[] data, int offset, int length) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            MemorySegment native_ = arena.allocate(Math.max(1, length));
            MemorySegment.copy(data, offset, native_, ValueLayout.JAVA_BYTE, 0, length);
            long done = 0;
            while (done < length) {
                long n = (long) WRITE.invokeExact(state, fd, native_.asSlice(done), (long) length - done);
                if (n < 0) {
                    int errno = errno(state);
                    if (errno == EINTR) {
                        continue;
                    }
                    throw failure("write", errno);
                }
                done += n;
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** Sets a terminal's window size (TIOCSWINSZ); the foreground process group gets SIGWINCH. */
    public static void setWindowSize(int fd, int rows, int columns) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            MemorySegment winsize = arena.allocate(8);
            winsize.set(ValueLayout.JAVA_SHORT, 0, (short) rows);
            winsize.set(ValueLayout.JAVA_SHORT, 2, (short) columns);
            if ((int) IOCTL_PTR.invokeExact(state, fd, TIOCSWINSZ, winsize) != 0) {
                throw failure("ioctl(TIOCSWINSZ)", errno(state));
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /**
     * Makes this process the reaper of its orphaned descendants (PR_SET_CHILD_SUBREAPER): a
     * process that {@code runc run -d} leaves behind becomes this process's child, to be
     * {@link #waitpid waited for} here.
     */
    public static void becomeChildSubreaper() throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            if ((int) PRCTL.invokeExact(state, 36 /* PR_SET_CHILD_SUBREAPER */, 1L) != 0) {
                throw failure("prctl(PR_SET_CHILD_SUBREAPER)", errno(state));
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /**
     * Blocks until child {@code pid} ends and reaps it; its exit code, or 128+signal when a signal
     * killed it (the shell's convention, and runc's).
     */
    public static int waitpid(long pid) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            MemorySegment status = arena.allocate(ValueLayout.JAVA_INT);
            while (true) {
                int rc = (int) WAITPID.invokeExact(state, (int) pid, status, 0);
                if (rc == pid) {
                    int raw = status.get(ValueLayout.JAVA_INT, 0);
                    int signal = raw & 0x7f;
                    return signal == 0 ? (raw >> 8) & 0xff : 128 + signal;
                }
                int errno = errno(state);
                if (rc < 0 && errno == EINTR) {
                    continue;
                }
                throw failure("waitpid(" + pid + ")", errno);
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** Sets the system clock (CAP_SYS_TIME). */
    public static void setTimeOfDay(long seconds, long microseconds) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            MemorySegment timeval = arena.allocate(16, 8);
            timeval.set(ValueLayout.JAVA_LONG, 0, seconds);
            timeval.set(ValueLayout.JAVA_LONG, 8, microseconds);
            if ((int) SETTIMEOFDAY.invokeExact(state, timeval, MemorySegment.NULL) != 0) {
                throw failure("settimeofday", errno(state));
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    public static void close(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            int ignored = (int) CLOSE.invokeExact(state, fd);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    private static int errno(MemorySegment state) {
        return Native.errno(state);
    }

    private static IOException failure(String call, int errno) {
        return Native.failure(call, errno);
    }
}
