package dev.katashim.vmm.qmp;

/** {@code query-status}: QEMU's run state ({@code running}, {@code paused}, {@code shutdown}, {@code internal-error}, {@code guest-panicked}, ...). */
public record VmStatus(String status, boolean running) {
}
