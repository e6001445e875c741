package dev.katashim.shim.io;

import java.io.IOException;

/**
 * The agent's side of one process's stdio (WriteStdin, CloseStdin, ReadStdout, ReadStderr).
 * Reads block until data arrives; an empty array means end of stream.
 */
public interface AgentStreams {
    /** Writes all of {@code data} to the process's stdin; returns the number of bytes taken. */
    long writeStdin(byte[] data) throws IOException, InterruptedException;

    void closeStdin() throws IOException, InterruptedException;

    byte[] readStdout(int maxBytes) throws IOException, InterruptedException;

    byte[] readStderr(int maxBytes) throws IOException, InterruptedException;
}
