package dev.katashim.shim.sandbox;

import dev.katashim.metrics.ShimMetrics;

/**
 * How long each step of a sandbox's start took, into {@code kata_shim_sandbox_start_phase_seconds{phase}}:
 * the VMM up, its agent answering, the sandbox created in the agent, then the sandbox's own
 * container created and started. Timed here and nowhere else.
 */
final class StartPhases {
    enum Phase {
        VM_BOOT("vm_boot"), AGENT_READY("agent_ready"), SANDBOX_CREATE("sandbox_create"),
        CONTAINER_CREATE("container_create"), CONTAINER_START("container_start");

        final String label;

        Phase(String label) {
            this.label = label;
        }
    }

    private final ShimMetrics metrics;

    StartPhases(ShimMetrics metrics) {
        this.metrics = metrics;
    }

    /** Begins timing {@code phase}; only a phase that ends well ({@link Timing#done()}) is recorded. */
    Timing begin(Phase phase) {
        return new Timing(phase, System.nanoTime());
    }

    final class Timing {
        private final Phase phase;
        private final long begun;

        private Timing(Phase phase, long begun) {
            this.phase = phase;
            this.begun = begun;
        }

        void done() {
            metrics.recordStartPhase(phase.label, System.nanoTime() - begun);
        }
    }
}
