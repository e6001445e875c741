package dev.katashim.agent.guest.support;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

/** A container root filesystem made from the host's static busybox: /bin/busybox plus a link per applet. */
public final class TestRootfs {
    private static final Path BUSYBOX = Path.of("/bin/busybox");

    private TestRootfs() {
    }

    public static Path create(Path dir) throws IOException, InterruptedException {
        Path bin = Files.createDirectories(dir.resolve("bin"));
        Files.copy(BUSYBOX, bin.resolve("busybox"), StandardCopyOption.COPY_ATTRIBUTES);
        for (String applet : applets()) {
            Files.createSymbolicLink(bin.resolve(applet), Path.of("busybox"));
        }
        for (String empty : List.of("proc", "sys", "dev", "etc", "root", "run", "var/tmp")) {
            Files.createDirectories(dir.resolve(empty));
        }
        Files.setPosixFilePermissions(Files.createDirectories(dir.resolve("tmp")), PosixFilePermissions.fromString("rwxrwxrwx"));
        Files.writeString(dir.resolve("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n");
        Files.writeString(dir.resolve("etc/group"), "root:x:0:\n");
        return dir;
    }

    private static List<String> applets() throws IOException, InterruptedException {
        Process p = new ProcessBuilder(BUSYBOX.toString(), "--list").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IOException("busybox --list failed: " + out);
        }
        // The list names busybox itself: a link would replace the binary with a link to itself.
        return out.lines().map(String::strip).filter(a -> !a.isEmpty() && !a.equals("busybox") && !a.contains("/")).toList();
    }
}
