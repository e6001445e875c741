package dev.katashim.vmm.qemu;

import dev.katashim.vmm.DiesWithParent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The virtio-fs daemon serving a sandbox's shared directory to QEMU over a vhost-user socket. One
 * daemon serves one QEMU connection and exits when QEMU goes; {@link #stop} makes sure.
 */
final class Virtiofsd implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Virtiofsd.class);

    private final Process process;

    private Virtiofsd(Process process) {
        this.process = process;
    }

    /** Starts virtiofsd through {@code launchPrefix} (into the sandbox's host cgroup, as QEMU; empty: none). */
    static Virtiofsd start(List<String> launchPrefix, Path binary, Path sharedDir, SandboxFiles files, Duration timeout) throws IOException {
        Files.deleteIfExists(files.virtiofsdSocket());
        List<String> argv = new java.util.ArrayList<>(launchPrefix);
        argv.addAll(List.of(binary.toString(), "--socket-path=" + files.virtiofsdSocket(),
                "-o", "source=" + sharedDir.toAbsolutePath(), "-o", "cache=auto", "-o", "sandbox=namespace"));
        Process process = DiesWithParent.start(new ProcessBuilder(argv)
                .redirectErrorStream(true)
                .redirectOutput(files.virtiofsdLog().toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))));
        Virtiofsd daemon = new Virtiofsd(process);
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            while (!Files.exists(files.virtiofsdSocket())) {
                if (!process.isAlive() || System.nanoTime() > deadline) {
                    daemon.close();
                    throw new IOException("virtiofsd " + binary + " did not create " + files.virtiofsdSocket()
                            + (process.isAlive() ? " within " + timeout.toMillis() + " ms" : " (exit status " + process.exitValue() + ")")
                            + "; its output (" + files.virtiofsdLog() + "):\n" + ProcessOutput.tail(files.virtiofsdLog()).strip());
                }
                Thread.sleep(5);
            }
        } catch (InterruptedException e) {
            daemon.close();
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted starting virtiofsd");
        }
        log.debug("virtiofsd pid {} serves {} on {}", process.pid(), sharedDir, files.virtiofsdSocket());
        return daemon;
    }

    long pid() {
        return process.pid();
    }

    /** Waits briefly for it to exit after QEMU went, then kills it. */
    @Override
    public void close() {
        try {
            if (!process.waitFor(1, TimeUnit.SECONDS)) {
                process.destroy();
                if (!process.waitFor(2, TimeUnit.SECONDS)) {
                    process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                }
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
