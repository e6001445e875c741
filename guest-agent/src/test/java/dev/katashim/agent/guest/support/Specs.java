package dev.katashim.agent.guest.support;

import dev.katashim.protocols.kata.agent.LinuxCapabilities;
import dev.katashim.protocols.kata.agent.Linux;
import dev.katashim.protocols.kata.agent.LinuxNamespace;
import dev.katashim.protocols.kata.agent.LinuxResources;
import dev.katashim.protocols.kata.agent.Mount;
import dev.katashim.protocols.kata.agent.POSIXRlimit;
import dev.katashim.protocols.kata.agent.Process;
import dev.katashim.protocols.kata.agent.Root;
import dev.katashim.protocols.kata.agent.Spec;
import dev.katashim.protocols.kata.agent.User;

import java.nio.file.Path;
import java.util.List;

/** OCI specs as a shim would send them for a busybox container: runc's defaults (`runc spec`), non-terminal. */
public final class Specs {
    private static final List<String> CAPS = List.of("CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE");

    private Specs() {
    }

    public static Process process(String... args) {
        return Process.newBuilder()
                .setUser(User.newBuilder().setUID(0).setGID(0))
                .addAllArgs(List.of(args))
                .addEnv("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
                .setCwd("/")
                .setCapabilities(LinuxCapabilities.newBuilder()
                        .addAllBounding(CAPS).addAllEffective(CAPS).addAllPermitted(CAPS).addAllAmbient(CAPS))
                .addRlimits(POSIXRlimit.newBuilder().setType("RLIMIT_NOFILE").setHard(1024).setSoft(1024))
                .setNoNewPrivileges(true)
                .build();
    }

    public static Spec.Builder busybox(Path rootfs, String... args) {
        return busybox(rootfs, process(args));
    }

    public static Spec.Builder busybox(Path rootfs, Process process) {
        return Spec.newBuilder()
                .setVersion("1.0.2")
                .setProcess(process)
                .setRoot(Root.newBuilder().setPath(rootfs.toString()))
                .setHostname("busybox")
                .addMounts(mount("/proc", "proc", "proc", List.of()))
                .addMounts(mount("/dev", "tmpfs", "tmpfs", List.of("nosuid", "strictatime", "mode=755", "size=65536k")))
                .addMounts(mount("/dev/pts", "devpts", "devpts",
                        List.of("nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5")))
                .addMounts(mount("/dev/shm", "shm", "tmpfs", List.of("nosuid", "noexec", "nodev", "mode=1777", "size=65536k")))
                .addMounts(mount("/dev/mqueue", "mqueue", "mqueue", List.of("nosuid", "noexec", "nodev")))
                .addMounts(mount("/sys", "sysfs", "sysfs", List.of("nosuid", "noexec", "nodev", "ro")))
                .setLinux(Linux.newBuilder()
                        .setResources(LinuxResources.getDefaultInstance())
                        .addNamespaces(ns("pid")).addNamespaces(ns("network")).addNamespaces(ns("ipc"))
                        .addNamespaces(ns("uts")).addNamespaces(ns("mount"))
                        .addAllMaskedPaths(List.of("/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/timer_list", "/sys/firmware"))
                        .addAllReadonlyPaths(List.of("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger")));
    }

    /** The spec with {@code mount} in place of any mount on the same destination. */
    public static Spec.Builder withMount(Spec.Builder spec, Mount mount) {
        List<Mount> others = spec.getMountsList().stream().filter(m -> !m.getDestination().equals(mount.getDestination())).toList();
        return spec.clearMounts().addAllMounts(others).addMounts(mount);
    }

    /** A bind mount of a guest path, read-only if asked. */
    public static Mount bind(String destination, String source, boolean readOnly) {
        return mount(destination, source, "bind", readOnly ? List.of("rbind", "ro") : List.of("rbind"));
    }

    public static Mount mount(String destination, String source, String type, List<String> options) {
        return Mount.newBuilder().setDestination(destination).setSource(source).setType(type).addAllOptions(options).build();
    }

    private static LinuxNamespace ns(String type) {
        return LinuxNamespace.newBuilder().setType(type).build();
    }
}
