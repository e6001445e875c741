package dev.katashim.agent.guest.process;

import java.io.IOException;

/**
 * The stdio of one container process, as the agent's stream RPCs see it: two output buffers to
 * drain, a stdin to write and close, and (for a terminal) a window to resize.
 */
public sealed interface ProcessIo permits PipeIo, TerminalIo {

    OutputBuffer stdout();

    /** A terminal merges stderr into stdout: its stderr is an empty, ended stream. */
    OutputBuffer stderr();

    /** Writes all of {@code data} to the process's stdin; returns the count written. */
    int writeStdin(byte[] data) throws IOException;

    /** Sends end-of-file to the process's stdin (closing it; for a terminal, an EOT character). */
    void closeStdin() throws IOException;

    boolean terminal();

    /** Resizes the terminal; fails for a process without one. */
    void resize(int rows, int columns) throws IOException;

    /** Nobody reads any more: drop buffered output and release what can be released. */
    void discard();
}
