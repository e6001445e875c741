package dev.katashim.agent.guest.process;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * Stdio through pipes: {@code runc run}/{@code runc exec} hand their own stdin, stdout and stderr
 * to the container process, so the pipes of the runc child are the container's.
 */
public final class PipeIo implements ProcessIo {
    private final OutputStream stdin;
    private final OutputBuffer stdout = new OutputBuffer();
    private final OutputBuffer stderr = new OutputBuffer();
    private final Object stdinLock = new Object();
    private volatile boolean stdinClosed;

    private PipeIo(OutputStream stdin) {
        this.stdin = stdin;
    }

    /** Starts pumping the process's stdout and stderr into buffers. */
    public static PipeIo attach(Process process, String name) {
        PipeIo io = new PipeIo(process.getOutputStream());
        OutputPump.start(name + "-stdout", process.getInputStream(), io.stdout);
        OutputPump.start(name + "-stderr", process.getErrorStream(), io.stderr);
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
            stdin.write(data);
            stdin.flush();
            return data.length;
        }
    }

    @Override
    public void closeStdin() throws IOException {
        synchronized (stdinLock) {
            if (!stdinClosed) {
                stdinClosed = true;
                stdin.close();
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
        try {
            closeStdin();
        } catch (IOException ignored) {
            // the process is gone; its pipe may be broken already
        }
    }

    /** Copies one stream into a buffer on its own thread, until end of file. */
    static final class OutputPump {
        private OutputPump() {
        }

        static void start(String name, InputStream in, OutputBuffer out) {
            Thread.ofPlatform().daemon().name(name).start(() -> {
                byte[] chunk = new byte[32 * 1024];
                try (in) {
                    int n;
                    while ((n = in.read(chunk)) >= 0) {
                        out.append(chunk, 0, n);
                    }
                } catch (IOException | InterruptedException e) {
                    // the pipe closed under us (process removed): the stream ends here
                } finally {
                    out.end();
                }
            });
        }
    }
}
