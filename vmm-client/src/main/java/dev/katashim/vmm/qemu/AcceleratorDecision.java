package dev.katashim.vmm.qemu;

import dev.katashim.vmm.qemu.QemuConfig.Accelerator;

/** Which accelerator a sandbox's QEMU runs with, and why. */
public record AcceleratorDecision(Accelerator accelerator, Source source, String reason) {
    public enum Source {
        /** The configuration named it. */
        CONFIGURED,
        /** An earlier sandbox on this host tried KVM; its outcome was remembered. */
        REMEMBERED,
        /** This sandbox tried KVM. */
        PROBED,
        /** There is no {@code /dev/kvm}: nothing to try. */
        NO_KVM_DEVICE
    }

    @Override
    public String toString() {
        return accelerator.name().toLowerCase(java.util.Locale.ROOT) + " (" + source.name().toLowerCase(java.util.Locale.ROOT) + ": " + reason + ")";
    }
}
