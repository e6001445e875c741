package dev.katashim.vmm.qemu;

import java.nio.file.Path;

/** Where one sandbox's QEMU keeps its sockets, pid file and logs: all inside the sandbox directory. */
public record SandboxFiles(Path dir) {
    public SandboxFiles {
        dir = dir.toAbsolutePath();
    }

    public Path qmpSocket() {
        return dir.resolve("qmp.sock");
    }

    /** The unix socket QEMU serves the guest's agent virtio-serial port on. */
    public Path agentSocket() {
        return dir.resolve("agent.sock");
    }

    /** The guest's serial console. */
    public Path consoleLog() {
        return dir.resolve("console.log");
    }

    /** QEMU's own stdout and stderr. */
    public Path qemuLog() {
        return dir.resolve("qemu.log");
    }

    public Path pidFile() {
        return dir.resolve("qemu.pid");
    }

    public Path virtiofsdSocket() {
        return dir.resolve("virtiofsd.sock");
    }

    public Path virtiofsdLog() {
        return dir.resolve("virtiofsd.log");
    }
}
