package dev.katashim.vmm.none;

/**
 * Set while the launchers record their AOT caches ({@code KATA_SHIM_AOT_TRAINING=1}): a JVM only
 * writes its cache when it exits normally, so processes are then stopped gracefully, never killed.
 */
final class AotTraining {
    private AotTraining() {
    }

    static boolean active() {
        return "1".equals(System.getenv("KATA_SHIM_AOT_TRAINING"));
    }
}
