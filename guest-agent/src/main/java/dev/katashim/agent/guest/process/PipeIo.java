package dev.katashim.agent.guest.process;

import dev.katashim.agent.guest.sys.Libc;

import java.io.IOException;

/**
 * Stdio through pipes the agent made itself: runc hands its stdin, stdout and stderr on to the
 * container process, and this side keeps the other ends for as long as the process writes, well
 * after runc (detached) has exited. Each output end is read on its own platform thread (a native
 * read pins it) and closed by that thread at end of file.
 */
public final class PipeIo implements ProcessIo {
    private final int stdin;
    private final OutputBuffer stdout = new OutputBuffer();
    private final OutputBuffer stderr = new OutputBuffer();
    private final Object stdinLock = new Object();
    private boolean stdinClosed;

    private PipeIo(int stdin) {
        this.stdin = stdin;
    }

    /** Takes over the agent's ends of the three pipes and starts pumping the outputs into buffers. */
    public static PipeIo attach(int stdinWriteEnd, int stdoutReadEnd, int stderrReadEnd, String name) {
        PipeIo io = new PipeIo(stdinWriteEnd);
        OutputPump.start(name + "-stdout", stdoutReadEnd, io.stdout);
        OutputPump.start(name + "-stderr", stderrReadEnd, io.stderr);
        return io;
    }

    @Override
    public OutputBuffer stdout() {
        return stdout;
    }

    @Override
    public OutputBuffer stderr() {
        return stderr;
    }

    @Override
    public int writeStdin(byte[] data) throws IOException {
        synchronized (stdinLock) {
            if (stdinClosed) {
                throw new IOException("stdin is closed");
            }
            Libc.writeFully(stdin, data, 0, data.length);
            return data.length;
        }
    }

    @Override
    public void closeStdin() {
        synchronized (stdinLock) {
            if (!stdinClosed) {
                stdinClosed = true;
                Libc.close(stdin);
            }
        }
    }

    @Override
    public boolean terminal() {
        return false;
    }

    @Override
    public void resize(int rows, int columns) throws IOException {
        throw new IOException("the process has no terminal");
    }

    @Override
    public void discard() {
        stdout.discard();
        stderr.discard();
        closeStdin();
    }

    /** Copies one pipe into a buffer until end of file, then closes the pipe. */
    static final class OutputPump {
        private OutputPump() {
        }

        static void start(String name, int fd, OutputBuffer out) {
            Thread.ofPlatform().daemon().name(name).start(() -> {
                byte[] chunk = new byte[32 * 1024];
                try {
                    int n;
                    while ((n = Libc.read(fd, chunk)) > 0) {
                        out.append(chunk, 0, n);
                    }
                } catch (IOException | InterruptedException e) {
                    // the stream ends here
                } finally {
                    out.end();
                    Libc.close(fd);
                }
            });
        }
    }
}
