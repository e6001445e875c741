package dev.katashim.shim.io;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * {@code file:///path}: one log file opened for append (created 0640, its directory 0755, both subject to the
 * umask as upstream's os.OpenFile/MkdirAll are); stdout and stderr share it through one lock.
 */
record LogFileSink(FileChannel file, ByteSink stdout, ByteSink stderr) implements OutputSink {

    static LogFileSink open(OutputTarget.LogFile target) throws IOException {
        Path parent = target.file().getParent();
        if (parent != null) {
            Files.createDirectories(parent,
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        }
        FileChannel file = FileChannel.open(target.file(),
                Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-r-----")));
        Object lock = new Object();
        return new LogFileSink(file, ByteSink.serialized(file, lock),
                target.withStderr() ? ByteSink.serialized(file, lock) : null);
    }

    @Override
    public void close() {
        Closeables.closeQuietly(file);
    }
}
