package dev.katashim.vmm.testing;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;

/**
 * A minimal initramfs for the tests: busybox-static as every command, the virtio/9p/virtio-fs/
 * pvpanic modules from the {@link TestKernel}, and an {@code /init} that mounts /proc, /sys, /dev,
 * loads the modules, prints {@link #MARKER} on the console, then runs the test's script.
 */
public final class TestInitramfs {
    /** What /init prints on the console once userspace runs and the modules are loaded. */
    public static final String MARKER = "KATA-TEST-GUEST-READY";
    private static final Path BUSYBOX = Path.of("/usr/bin/busybox");

    private TestInitramfs() {
    }

    /** Writes the initramfs to {@code out}; {@code script} (busybox sh) runs after the marker. */
    public static Path build(Path out, TestKernel kernel, String script) throws IOException {
        if (!Files.isRegularFile(BUSYBOX)) {
            throw new IOException(BUSYBOX + " not found: the test guests need busybox-static (apt-get install busybox-static)");
        }
        StringBuilder init = new StringBuilder("""
                #!/bin/busybox sh
                /bin/busybox --install -s /bin
                export PATH=/bin
                mount -t proc proc /proc
                mount -t sysfs sys /sys
                mount -t devtmpfs dev /dev
                """);
        for (String m : TestKernel.MODULES) {
            init.append("insmod /lib/modules/").append(m).append(".ko || echo \"insmod ").append(m).append(" failed\"\n");
        }
        init.append("echo ").append(MARKER).append('\n');
        init.append(script).append('\n');
        try (OutputStream file = Files.newOutputStream(out); GZIPOutputStream gz = new GZIPOutputStream(file, 1 << 16)) {
            Cpio cpio = new Cpio(gz);
            for (String d : new String[]{"bin", "dev", "proc", "sys", "mnt", "tmp", "lib", "lib/modules"}) {
                cpio.directory(d);
            }
            cpio.file("bin/busybox", 0755, Files.readAllBytes(BUSYBOX));
            cpio.symlink("bin/sh", "busybox");
            for (String m : TestKernel.MODULES) {
                cpio.file("lib/modules/" + m + ".ko", 0644, Files.readAllBytes(kernel.module(m)));
            }
            cpio.file("init", 0755, init.toString().getBytes(StandardCharsets.UTF_8));
            cpio.finish();
        }
        return out;
    }
}
