package dev.katashim.shim.resource;

import dev.katashim.sys.HostCommand;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The sandbox's shared directory as a mount of its own with shared propagation, for a share
 * served by a daemon in its own mount namespace (virtiofsd with {@code sandbox=namespace}): the
 * daemon copies the mount table when it starts, and only a shared mount makes the containers'
 * root filesystems and volumes, bind-mounted under it later, appear in the daemon's copy too
 * (as slave mounts: nothing the daemon does comes back). 9p needs none of this: QEMU reads the
 * host's own mount table.
 */
final class SharedSubtree {
    private static final Logger log = LoggerFactory.getLogger(SharedSubtree.class);
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private final Path dir;

    private SharedSubtree(Path dir) {
        this.dir = dir;
    }

    /** Binds {@code dir} onto itself and makes it shared; undone by {@link #remove}. */
    static SharedSubtree make(Path dir) throws IOException {
        HostCommand.run(List.of("mount", "--bind", dir.toString(), dir.toString()), TIMEOUT, "bind " + dir + " onto itself");
        SharedSubtree subtree = new SharedSubtree(dir);
        try {
            HostCommand.run(List.of("mount", "--make-shared", dir.toString()), TIMEOUT, "make " + dir + " a shared mount");
        } catch (IOException e) {
            subtree.remove();
            throw e;
        }
        return subtree;
    }

    /** Once nothing is mounted below it any more (the containers' shares are gone). */
    void remove() {
        try {
            HostCommand.run(List.of("umount", "-l", dir.toString()), TIMEOUT, "unmount " + dir);
        } catch (IOException e) {
            log.warn("{}", e.getMessage());
        }
    }
}
