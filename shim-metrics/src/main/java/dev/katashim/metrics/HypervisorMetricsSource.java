package dev.katashim.metrics;

/**
 * What the hypervisor backend itself can count (the shim implements this per backend). Read once
 * per scrape. A counter the backend cannot supply is left out of {@link HypervisorCounters}, and
 * its series is then absent from {@code /metrics}: never a made-up zero.
 */
@FunctionalInterface
public interface HypervisorMetricsSource {
    /** A backend that counts nothing (the no-VM sandbox): every such series is absent. */
    HypervisorMetricsSource NONE = () -> HypervisorCounters.NONE;

    HypervisorCounters counters() throws Exception;
}
