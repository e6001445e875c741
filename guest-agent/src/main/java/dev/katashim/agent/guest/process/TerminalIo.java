package dev.katashim.agent.guest.process;

import dev.katashim.agent.guest.sys.Libc;

import java.io.IOException;

/**
 * Stdio through a pseudo-terminal whose master runc handed over on the console socket. Output of
 * the master goes to one buffer (a terminal merges stdout and stderr); input is written to it.
 */
public final class TerminalIo implements ProcessIo {
    private static final byte EOT = 0x04;

    private final int master;
    private final OutputBuffer output = new OutputBuffer();
    private final OutputBuffer noStderr = new OutputBuffer(1);
    private final Object lifecycle = new Object();
    private boolean pumpDone;
    private boolean discarded;
    private boolean closed;

    private TerminalIo(int master) {
        this.master = master;
        noStderr.end();
    }

    public static TerminalIo attach(int masterFd, String name) {
        TerminalIo io = new TerminalIo(masterFd);
        // A native read pins its thread: a platform thread, not a virtual one.
        Thread.ofPlatform().daemon().name(name + "-tty").start(io::pump);
        return io;
    }

    private void pump() {
        byte[] chunk = new byte[32 * 1024];
        try {
            int n;
            while ((n = Libc.read(master, chunk)) > 0) {
                output.append(chunk, 0, n);
            }
        } catch (IOException | InterruptedException e) {
            // the terminal went away: the stream ends
        } finally {
            output.end();
            synchronized (lifecycle) {
                pumpDone = true;
                closeIfUnused();
            }
        }
    }

    private void closeIfUnused() {
        if (pumpDone && discarded && !closed) {
            closed = true;
            Libc.close(master);
        }
    }

    @Override
    public OutputBuffer stdout() {
        return output;
    }

    @Override
    public OutputBuffer stderr() {
        return noStderr;
    }

    @Override
    public int writeStdin(byte[] data) throws IOException {
        synchronized (lifecycle) {
            if (closed) {
                throw new IOException("the terminal is closed");
            }
        }
        Libc.writeFully(master, data, 0, data.length);
        return data.length;
    }

    @Override
    public void closeStdin() throws IOException {
        writeStdin(new byte[]{EOT});
    }

    @Override
    public boolean terminal() {
        return true;
    }

    @Override
    public void resize(int rows, int columns) throws IOException {
        synchronized (lifecycle) {
            if (closed) {
                throw new IOException("the terminal is closed");
            }
            Libc.setWindowSize(master, rows, columns);
        }
    }

    @Override
    public void discard() {
        output.discard();
        synchronized (lifecycle) {
            discarded = true;
            closeIfUnused();
        }
    }
}
