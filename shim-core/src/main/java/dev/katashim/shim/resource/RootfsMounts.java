package dev.katashim.shim.resource;

import dev.katashim.protocols.containerd.types.Mount;
import dev.katashim.sys.HostCommand;
import dev.katashim.sys.MountTable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The container's root filesystem mounts that containerd hands to Create (a snapshot: overlay,
 * bind), mounted by the shim on {@code <bundle>/rootfs} and unmounted at Delete. Empty when the
 * rootfs is already a directory ({@code ctr run --rootfs}).
 */
final class RootfsMounts {
    private static final Logger log = LoggerFactory.getLogger(RootfsMounts.class);
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private final Path target;
    private final List<Mount> mounts;
    private boolean mounted;

    RootfsMounts(Path target, List<Mount> mounts) {
        this.target = target;
        this.mounts = List.copyOf(mounts);
    }

    boolean isEmpty() {
        return mounts.isEmpty();
    }

    void mount() throws IOException {
        for (Mount m : mounts) {
            List<String> command = new ArrayList<>(List.of("mount", "-t", m.getType()));
            if (m.getOptionsCount() > 0) {
                command.add("-o");
                command.add(String.join(",", m.getOptionsList()));
            }
            command.add("--"); // a source beginning with '-' is a path, never an option of mount(8)
            command.add(m.getSource());
            command.add(target.toString());
            HostCommand.run(command, TIMEOUT, "mount the rootfs (" + m.getType() + " " + m.getSource() + ") on " + target);
        }
        mounted = !mounts.isEmpty();
    }

    void unmount() {
        if (!mounted) {
            return;
        }
        try {
            HostCommand.run(List.of("umount", target.toString()), TIMEOUT, "unmount " + target);
            mounted = false;
        } catch (IOException e) {
            log.warn("{}; retrying lazily", e.getMessage());
            try {
                HostCommand.run(List.of("umount", "-l", target.toString()), TIMEOUT, "lazily unmount " + target);
                mounted = false;
            } catch (IOException again) {
                log.error(again.getMessage());
            }
        }
    }

    /** After a dead shim ({@code delete}): whatever is still mounted on a bundle's rootfs. */
    static void unmountLeftover(Path rootfs) throws IOException {
        if (MountTable.ofThisProcess().isMountPoint(rootfs)) {
            HostCommand.run(List.of("umount", "-l", rootfs.toString()), Duration.ofSeconds(3), "umount -l " + rootfs);
        }
    }
}
