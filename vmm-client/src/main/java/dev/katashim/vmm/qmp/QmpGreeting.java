package dev.katashim.vmm.qmp;

import java.util.List;

/** The server's greeting: {@code {"QMP": {"version": {"qemu": {...}, "package": ...}, "capabilities": [...]}}}. */
public record QmpGreeting(int major, int minor, int micro, String packageName, List<String> capabilities) {
    public QmpGreeting {
        capabilities = List.copyOf(capabilities);
    }

    public String version() {
        return major + "." + minor + "." + micro;
    }
}
