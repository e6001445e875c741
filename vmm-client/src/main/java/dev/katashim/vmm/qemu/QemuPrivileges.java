package dev.katashim.vmm.qemu;

import java.util.List;

/**
 * What QEMU may do as root: only the capabilities its share needs. It runs as the shim's user
 * (root), and a 9p share with {@code security_model=none} makes it open, create and chmod files of
 * any owner in the shared directory (the containers' root filesystems and volumes): DAC override
 * and search, chown, fowner, fsetid, mknod. Everything else (sys_admin, net_admin, sys_module,
 * sys_ptrace, kill, setuid, ...) is dropped from its capability bounding set before it is exec'd,
 * so a guest that takes over QEMU holds neither those nor, under {@code -sandbox}, the syscalls to
 * gain them back. /dev/kvm and /dev/vhost-vsock are root's files: opening them needs no capability.
 */
final class QemuPrivileges {
    static final List<String> CAPABILITIES = List.of("chown", "dac_override", "dac_read_search", "fowner", "fsetid", "mknod");
    /** setpriv(1)'s options: the bounding set of the exec'd QEMU (root's permitted set is cut to it). */
    static final List<String> SETPRIV_OPTIONS = List.of("--bounding-set",
            "-all," + String.join(",", CAPABILITIES.stream().map(c -> "+" + c).toList()));

    private QemuPrivileges() {
    }
}
