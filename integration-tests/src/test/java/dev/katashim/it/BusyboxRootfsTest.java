package dev.katashim.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.katashim.it.support.BusyboxRootfs;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BusyboxRootfsTest {

    @TempDir
    Path scratch;

    @Test
    void linksEveryAppletToARealBusyboxCopy() throws IOException {
        BusyboxRootfs rootfs = BusyboxRootfs.create(scratch.resolve("relative/../rootfs"));

        assertThat(rootfs.path()).isAbsolute().isEqualTo(scratch.resolve("rootfs"));
        Path busybox = rootfs.path().resolve("bin/busybox");
        assertThat(busybox).isRegularFile().isExecutable().hasSameBinaryContentAs(BusyboxRootfs.HOST_BUSYBOX);
        assertThat(Files.readSymbolicLink(rootfs.path().resolve("bin/sh"))).isEqualTo(Path.of("busybox"));
        assertThat(rootfs.path().resolve("bin/sleep")).isExecutable();
        assertThat(rootfs.path().resolve("etc/passwd")).content().startsWith("root:x:0:0:");
        assertThat(rootfs.path().resolve("etc/group")).content().startsWith("root:x:0:");
        for (String dir : new String[] {"proc", "sys", "dev", "tmp", "etc"}) {
            assertThat(rootfs.path().resolve(dir)).isDirectory();
        }
    }

    @Test
    void canBeRebuiltInPlace() {
        BusyboxRootfs first = BusyboxRootfs.create(scratch);
        BusyboxRootfs second = BusyboxRootfs.create(scratch);

        assertThat(second).isEqualTo(first);
        assertThat(second.path().resolve("bin/echo")).isExecutable();
    }
}
