package dev.katashim.it.shim;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A container that counts, five times a second, into {@code /beat} of its root filesystem: a pod's
 * sign of life that the host reads without an RPC (the no-VM sandbox runs on the rootfs directory,
 * a VM sandbox shares it into the guest).
 */
final class Heartbeat {
    /** The container's command. */
    static final List<String> COMMAND = List.of("/bin/sh", "-c", "i=0; while true; do i=$((i+1)); echo $i > /beat; sleep 0.2; done");

    private Heartbeat() {
    }

    /** The last count written into {@code rootfs}; 0 before the first, or while it is being rewritten. */
    static long read(Path rootfs) {
        try {
            String text = Files.readString(rootfs.resolve("beat")).strip();
            return text.isEmpty() ? 0 : Long.parseLong(text);
        } catch (Exception e) {
            return 0;
        }
    }
}
