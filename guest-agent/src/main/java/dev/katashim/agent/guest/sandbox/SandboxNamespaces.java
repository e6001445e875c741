package dev.katashim.agent.guest.sandbox;

import dev.katashim.agent.guest.sys.Namespaces;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The IPC and UTS namespaces all containers of the sandbox share (upstream's agent does the same
 * at CreateSandbox): made with the sandbox's hostname, kept alive by bind mounts on
 * {@code <dir>/ipc} and {@code <dir>/uts} until the sandbox is destroyed.
 */
public final class SandboxNamespaces {
    private static final Logger log = LoggerFactory.getLogger(SandboxNamespaces.class);

    private final Path dir;
    private boolean created;

    public SandboxNamespaces(Path dir) {
        this.dir = dir;
    }

    public Path ipc() {
        return dir.resolve("ipc");
    }

    public Path uts() {
        return dir.resolve("uts");
    }

    public synchronized boolean created() {
        return created;
    }

    public synchronized void create(String hostname) throws IOException, InterruptedException {
        if (created) {
            throw new IllegalStateException("the sandbox namespaces exist already");
        }
        Files.createDirectories(dir);
        for (Path file : new Path[]{ipc(), uts()}) {
            Files.deleteIfExists(file);
            Files.createFile(file);
        }
        try {
            Namespaces.createPersistent(ipc(), uts(), hostname);
        } catch (IOException | RuntimeException e) {
            release();
            throw e;
        }
        created = true;
    }

    /** Lets the namespaces go (they end with their last container); also what an earlier agent left. */
    public synchronized void release() {
        for (Path file : new Path[]{ipc(), uts()}) {
            if (!Files.exists(file)) {
                continue;
            }
            try {
                Namespaces.release(file);
            } catch (IOException e) {
                log.debug("{} was not mounted: {}", file, e.getMessage());
            }
            try {
                Files.deleteIfExists(file);
            } catch (IOException e) {
                log.warn("cannot remove {}: {}", file, e.toString());
            }
        }
        created = false;
    }
}
