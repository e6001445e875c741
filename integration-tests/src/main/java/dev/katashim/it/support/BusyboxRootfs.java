package dev.katashim.it.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;

/** A minimal container root filesystem made from the host's static busybox: enough for /bin/sh and friends. */
public record BusyboxRootfs(Path path) {

    public static final Path HOST_BUSYBOX = Path.of("/bin/busybox");

    private static final List<String> EMPTY_DIRS = List.of("proc", "sys", "dev", "etc", "root", "run", "var/tmp");

    /** Builds the rootfs in {@code dir} (created if missing) and returns it with an absolute path, as {@code ctr run --rootfs} needs. */
    public static BusyboxRootfs create(Path dir) {
        Path rootfs = dir.toAbsolutePath().normalize();
        try {
            Path bin = Files.createDirectories(rootfs.resolve("bin"));
            // A copy, not a hard link: a container writing to its /bin/busybox must not change the host's.
            Files.copy(HOST_BUSYBOX, bin.resolve("busybox"), StandardCopyOption.REPLACE_EXISTING,
                    StandardCopyOption.COPY_ATTRIBUTES);
            for (String applet : Applets.NAMES) {
                Path link = bin.resolve(applet);
                Files.deleteIfExists(link);
                Files.createSymbolicLink(link, Path.of("busybox"));
            }
            for (String empty : EMPTY_DIRS) {
                Files.createDirectories(rootfs.resolve(empty));
            }
            Path tmp = Files.createDirectories(rootfs.resolve("tmp"));
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxrwxrwx"));
            Files.writeString(rootfs.resolve("etc/passwd"),
                    "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n");
            Files.writeString(rootfs.resolve("etc/group"), "root:x:0:\nnogroup:x:65534:\n");
            Files.writeString(rootfs.resolve("etc/hostname"), "busybox\n");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot build a busybox rootfs in " + rootfs, e);
        }
        return new BusyboxRootfs(rootfs);
    }

    /** The applet list, asked once per JVM. */
    private static final class Applets {
        static final List<String> NAMES = list();

        private static List<String> list() {
            CommandResult result = ExternalCommand.run(List.of(HOST_BUSYBOX.toString(), "--list"), Duration.ofSeconds(10));
            if (!result.succeeded()) {
                throw new IllegalStateException("busybox --list failed: " + result);
            }
            return result.stdout().lines()
                    .map(String::strip)
                    // The list names "busybox" itself: linking it would replace the binary with a link to itself.
                    .filter(name -> !name.isEmpty() && !name.equals("busybox") && !name.contains("/"))
                    .toList();
        }
    }
}
