package dev.katashim.sys;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MountTableTest {
    // as a cgroup v1 host with a container's overlay and a directory whose name has a space prints them
    private static final String MOUNTINFO = """
            22 1 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw
            30 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw,errors=remount-ro
            35 30 0:30 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:9 master:3 - cgroup cgroup rw,cpu,cpuacct
            36 30 0:31 / /sys/fs/cgroup/memory rw,nosuid - cgroup cgroup rw,memory
            37 30 0:32 / /sys/fs/cgroup/unified rw,nosuid shared:7 - cgroup2 cgroup2 rw,nsdelegate
            40 30 0:40 / /run/vc/sbs/a\\040b rw - tmpfs tmp\\011fs rw,size=64k
            41 40 8:1 /home/u/rootfs /run/vc/sbs/a\\040b/shared/c1/rootfs ro,relatime - ext4 /dev/sda1 rw
            42 40 0:41 / /run/vc/sbs/a\\040b/shared rw - tmpfs tmpfs rw
            43 40 0:42 / /run/vc/sbs/a\\040b/shared rw - tmpfs back\\134slash rw
            not a mount line
            """;

    private final MountTable table = MountTable.parse(MOUNTINFO);

    @Test
    void everyFieldIsReadWithTheKernelsEscapesUndone() {
        assertThat(table.mounts()).hasSize(9);
        Mount rootfs = table.mounts().get(6);
        assertThat(rootfs.mountId()).isEqualTo(41);
        assertThat(rootfs.parentId()).isEqualTo(40);
        assertThat(rootfs.majorMinor()).isEqualTo("8:1");
        assertThat(rootfs.root()).isEqualTo("/home/u/rootfs");
        assertThat(rootfs.mountPoint()).isEqualTo(Path.of("/run/vc/sbs/a b/shared/c1/rootfs"));
        assertThat(rootfs.mountOptions()).isEqualTo("ro,relatime");
        assertThat(rootfs.hasMountOption("ro")).isTrue();
        assertThat(rootfs.hasSuperOption("ro")).isFalse();
        assertThat(rootfs.fsType()).isEqualTo("ext4");
        assertThat(rootfs.source()).isEqualTo("/dev/sda1");
        assertThat(table.mounts().get(5).source()).isEqualTo("tmp\tfs");
        assertThat(table.mounts().get(8).source()).isEqualTo("back\\slash");
    }

    @Test
    void optionalFieldsOfAnyNumberEndAtTheSeparator() {
        Mount cpu = table.mounts().get(2);
        assertThat(cpu.fsType()).isEqualTo("cgroup");
        assertThat(cpu.superOptions()).isEqualTo("rw,cpu,cpuacct");
        assertThat(cpu.hasSuperOption("cpuacct")).isTrue();
        assertThat(cpu.hasSuperOption("memory")).isFalse();
        assertThat(table.mounts().get(3).mountOptions()).isEqualTo("rw,nosuid");
        assertThatThrownBy(() -> Mount.parse("1 2 0:1 / /x rw tmpfs tmpfs rw")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Mount.parse("one 2 0:1 / /x rw - tmpfs tmpfs rw")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void escapesThatAreNotThreeOctalDigitsStay() {
        assertThat(Mount.decode("a\\040b\\0c\\9999\\")).isEqualTo("a b\\0c\\9999\\");
    }

    @Test
    void mountPointsAtOrBelowComeDeepestFirstOncePerStackedMount() {
        assertThat(table.pointsAtOrBelow(Path.of("/run/vc/sbs/a b"))).containsExactly(
                Path.of("/run/vc/sbs/a b/shared/c1/rootfs"), Path.of("/run/vc/sbs/a b/shared"), Path.of("/run/vc/sbs/a b/shared"),
                Path.of("/run/vc/sbs/a b"));
        assertThat(table.pointsAtOrBelow(Path.of("/run/vc/sbs/a"))).isEmpty(); // a path prefix is not a parent
        assertThat(table.pointsAtOrBelow(Path.of("/run/vc/sbs/a b/shared/c1/../c1"))).containsExactly(
                Path.of("/run/vc/sbs/a b/shared/c1/rootfs"));
    }

    @Test
    void theMountAtAPointIsTheLastOneMountedThere() {
        assertThat(table.isMountPoint(Path.of("/run/vc/sbs/a b/shared"))).isTrue();
        assertThat(table.isMountPoint(Path.of("/run/vc/sbs/a b/shared/c1"))).isFalse();
        assertThat(table.at(Path.of("/run/vc/sbs/a b/shared/"))).hasValueSatisfying(m -> assertThat(m.mountId()).isEqualTo(43));
        assertThat(table.ofType(Set.of("cgroup", "cgroup2"))).extracting(Mount::mountId).containsExactly(35, 36, 37);
    }

    @Test
    void thisProcessSeesProcAndItsRoot() throws Exception {
        MountTable mine = MountTable.ofThisProcess();
        assertThat(mine.at(Path.of("/proc"))).hasValueSatisfying(m -> assertThat(m.fsType()).isEqualTo("proc"));
        assertThat(mine.isMountPoint(Path.of("/"))).isTrue();
        assertThat(mine.mounts()).hasSize((int) Files.readAllLines(MountTable.SELF).stream().filter(l -> !l.isBlank()).count());
    }

    @Test
    void aRealMountWithASpaceInItsPathIsFoundThenGone(@TempDir Path dir) throws Exception {
        Path outer = Files.createDirectories(dir.resolve("with space"));
        mount(outer);
        try {
            Path inner = Files.createDirectories(outer.resolve("in\\side"));
            mount(inner);
            try {
                MountTable now = MountTable.ofThisProcess();
                assertThat(now.isMountPoint(outer)).isTrue();
                assertThat(now.at(inner)).hasValueSatisfying(m -> assertThat(m.fsType()).isEqualTo("tmpfs"));
                assertThat(now.pointsAtOrBelow(dir)).containsExactly(inner.toAbsolutePath(), outer.toAbsolutePath());
            } finally {
                run("umount", inner.toString());
            }
        } finally {
            run("umount", outer.toString());
        }
        assertThat(MountTable.ofThisProcess().pointsAtOrBelow(dir)).isEmpty();
        assertThat(MountTable.ofThisProcess().isMountPoint(outer)).isFalse();
    }

    private static void mount(Path point) throws Exception {
        run("mount", "-t", "tmpfs", "-o", "size=64k", "kata-host-sys-test", point.toString());
    }

    private static void run(String... command) throws Exception {
        Process p = new ProcessBuilder(List.of(command)).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(String.join(" ", command) + ": " + output).isZero();
    }
}
