package dev.katashim.shim.task;

import dev.katashim.protocols.containerd.types.Mount;
import dev.katashim.shim.sys.HostCommand;
import dev.katashim.ttrpc.status.StatusCode;
import dev.katashim.ttrpc.status.TtrpcException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.time.Duration;

/**
 * The container's root filesystem mounts that containerd hands to Create (a snapshot: overlay,
 * bind), mounted by the shim on {@code <bundle>/rootfs} and unmounted at Delete. Empty when the
 * rootfs is already a directory ({@code ctr run --rootfs}).
 */
final class RootfsMounts {
    private static final Logger log = LoggerFactory.getLogger(RootfsMounts.class);

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

    void mount() {
        for (Mount m : mounts) {
            List<String> command = new ArrayList<>(List.of("mount", "-t", m.getType()));
            if (m.getOptionsCount() > 0) {
                command.add("-o");
                command.add(String.join(",", m.getOptionsList()));
            }
            command.add(m.getSource());
            command.add(target.toString());
            run(command, "mount the rootfs (" + m.getType() + " " + m.getSource() + ") on " + target);
        }
        mounted = !mounts.isEmpty();
    }

    void unmount() {
        if (!mounted) {
            return;
        }
        try {
            run(List.of("umount", target.toString()), "unmount " + target);
            mounted = false;
        } catch (TtrpcException e) {
            log.warn("{}; retrying lazily", e.getMessage());
            try {
                run(List.of("umount", "-l", target.toString()), "lazily unmount " + target);
                mounted = false;
            } catch (TtrpcException again) {
                log.error(again.getMessage());
            }
        }
    }

    private static void run(List<String> command, String what) {
        try {
            HostCommand.run(command, Duration.ofSeconds(30), what);
        } catch (IOException e) {
            throw new TtrpcException(StatusCode.INTERNAL, e.getMessage());
        }
    }
}
