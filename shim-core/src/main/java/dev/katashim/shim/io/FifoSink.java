package dev.katashim.shim.io;

import java.io.IOException;
import java.nio.channels.FileChannel;

/**
 * containerd's stdout/stderr FIFOs, opened read-write as upstream does: the open never waits for containerd's
 * reader, and containerd can close and reopen its end (reattach, restart) without us seeing an error. The price,
 * also upstream's: if nobody reads, writes block once the pipe buffer is full, until {@link #close()}.
 */
record FifoSink(FileChannel out, FileChannel err, ByteSink stdout, ByteSink stderr) implements OutputSink {

    static FifoSink open(OutputTarget.Fifos target) throws IOException {
        FileChannel out = target.stdout() == null ? null : Fifos.openReadWrite(target.stdout(), "stdout");
        try {
            FileChannel err = target.stderr() == null ? null : Fifos.openReadWrite(target.stderr(), "stderr");
            return new FifoSink(out, err,
                    out == null ? null : ByteSink.serialized(out, new Object()),
                    err == null ? null : ByteSink.serialized(err, new Object()));
        } catch (IOException | RuntimeException e) {
            Closeables.closeQuietly(out);
            throw e;
        }
    }

    @Override
    public void close() {
        Closeables.closeQuietly(out);
        Closeables.closeQuietly(err);
    }
}
