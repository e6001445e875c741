package dev.katashim.agent.guest.process;

import dev.katashim.agent.guest.sys.Libc;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * Stdio through a pseudo-terminal whose master runc hands over on the console socket. It exists
 * before the master does (a process whose start waits for its window size has stdio already):
 * input written and a size set meanwhile are applied when the master is attached. Output of the
 * master goes to one buffer (a terminal merges stdout and stderr).
 */
public final class TerminalIo implements ProcessIo {
    private static final byte EOT = 0x04;

    private final String name;
    private final OutputBuffer output = new OutputBuffer();
    private final OutputBuffer noStderr = new OutputBuffer(1);
    private final Object lifecycle = new Object();
    private final ByteArrayOutputStream pendingInput = new ByteArrayOutputStream();
    private int master = -1;
    private WindowSize pendingSize;
    private boolean pumpDone;
    private boolean discarded;
    private boolean closed;

    private TerminalIo(String name) {
        this.name = name;
        noStderr.end();
    }

    /** A terminal waiting for its master. */
    public static TerminalIo unattached(String name) {
        return new TerminalIo(name);
    }

    /** Takes the master runc sent: applies what was set meanwhile, then pumps its output. */
    public void attach(int masterFd) throws IOException {
        synchronized (lifecycle) {
            if (master >= 0) {
                throw new IllegalStateException("terminal " + name + " already has a master");
            }
            master = masterFd;
            if (discarded) {
                closed = true;
                pumpDone = true;
                Libc.close(masterFd);
                output.end();
                return;
            }
            if (pendingSize != null) {
                Libc.setWindowSize(master, pendingSize.rows(), pendingSize.columns());
            }
            if (pendingInput.size() > 0) {
                byte[] input = pendingInput.toByteArray();
                Libc.writeFully(master, input, 0, input.length);
                pendingInput.reset();
            }
        }
        // A native read pins its thread: a platform thread, not a virtual one.
        Thread.ofPlatform().daemon().name(name + "-tty").start(this::pump);
    }

    /** The process never ran: {@code message} is all its output. */
    public void fail(String message) {
        synchronized (lifecycle) {
            if (master >= 0) {
                return; // it did run: its own output tells
            }
            closed = true;
            pumpDone = true;
        }
        try {
            byte[] text = (message + "\r\n").getBytes(StandardCharsets.UTF_8);
            output.append(text, 0, text.length);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        output.end();
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
        int fd;
        synchronized (lifecycle) {
            if (closed || discarded) {
                throw new IOException("the terminal is closed");
            }
            if (master < 0) {
                pendingInput.writeBytes(data);
                return data.length;
            }
            fd = master;
        }
        Libc.writeFully(fd, data, 0, data.length);
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
            if (master < 0) {
                pendingSize = new WindowSize(rows, columns);
                return;
            }
            Libc.setWindowSize(master, rows, columns);
        }
    }

    @Override
    public void discard() {
        output.discard();
        synchronized (lifecycle) {
            discarded = true;
            if (master >= 0) {
                closeIfUnused();
            }
        }
    }
}
