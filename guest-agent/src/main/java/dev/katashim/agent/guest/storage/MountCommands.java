package dev.katashim.agent.guest.storage;

import dev.katashim.agent.guest.AgentStatus;
import dev.katashim.sys.MountTable;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** mount(8), umount(8) and chmod(1), run to completion; a failure is INTERNAL with their words. */
final class MountCommands {
    private MountCommands() {
    }

    static void mount(String fstype, List<String> options, String source, Path target) throws InterruptedException {
        List<String> command = new ArrayList<>(List.of("mount"));
        List<String> all = new ArrayList<>(options);
        if (fstype.equals("bind")) {
            all.addFirst("bind"); // -o bind: busybox's mount and util-linux's both take it
        } else if (!fstype.isEmpty()) {
            command.addAll(List.of("-t", fstype));
        }
        if (!all.isEmpty()) {
            command.addAll(List.of("-o", String.join(",", all)));
        }
        if (!source.isEmpty()) {
            command.add(source); // a remount names only its target
        }
        command.add(target.toString());
        run(command, "mount " + source + " on " + target);
    }

    /** Unmounts, lazily when the file system is busy. */
    static void unmount(Path target) throws InterruptedException {
        try {
            run(List.of("umount", target.toString()), "umount " + target);
        } catch (RuntimeException busy) {
            run(List.of("umount", "-l", target.toString()), "umount -l " + target);
        }
    }

    /** Permissions with the bits Java's API cannot set (setgid). */
    static void chmod(Path path, int mode) throws InterruptedException {
        run(List.of("chmod", Integer.toOctalString(mode), path.toString()), "chmod " + Integer.toOctalString(mode) + " " + path);
    }

    /** Whether something is mounted on {@code path} (per /proc/self/mountinfo); false when that cannot be read. */
    static boolean isMountPoint(Path path) {
        try {
            return MountTable.ofThisProcess().isMountPoint(path);
        } catch (IOException e) {
            return false;
        }
    }

    /** Mount points at or below {@code dir}, deepest first; none when /proc/self/mountinfo cannot be read. */
    static List<Path> mountPointsBelow(Path dir) {
        try {
            return MountTable.ofThisProcess().pointsAtOrBelow(dir);
        } catch (IOException e) {
            return List.of();
        }
    }

    private static void run(List<String> command, String what) throws InterruptedException {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw AgentStatus.internal(what + " timed out");
            }
            if (p.exitValue() != 0) {
                throw AgentStatus.internal(what + " failed: " + new String(out, StandardCharsets.UTF_8).strip());
            }
        } catch (IOException e) {
            throw AgentStatus.internal(what + " failed: " + e.getMessage());
        }
    }
}
