package dev.katashim.shim.oci;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.Any;
import dev.katashim.protocols.kata.agent.LinuxCPU;
import dev.katashim.protocols.kata.agent.LinuxMemory;
import dev.katashim.protocols.kata.agent.LinuxResources;
import dev.katashim.ttrpc.status.StatusCode;
import dev.katashim.ttrpc.status.TtrpcException;

/**
 * The resources of an Update (an OCI {@code LinuxResources}, as JSON in the request's Any), checked
 * and in the agent's terms: a limit the kernel would refuse or that cannot be meant is refused here,
 * naming the field, before anything reaches the guest. cpuset cpus/mems are cleared, as upstream
 * does: host CPU numbers mean nothing in the VM.
 */
public final class ResourceUpdate {
    /** The CFS period bounds the kernel accepts (µs). */
    private static final long MIN_PERIOD = 1_000, MAX_PERIOD = 1_000_000;
    /** cgroup v1 cpu.shares bounds. */
    private static final long MIN_SHARES = 2, MAX_SHARES = 262_144;
    /** Beyond this no memory limit can be meant (1 EiB). */
    private static final long MAX_BYTES = 1L << 60;

    private ResourceUpdate() {
    }

    public static LinuxResources of(Any resources) {
        if (resources.getValue().isEmpty()) {
            throw new TtrpcException(StatusCode.INVALID_ARGUMENT, "Invalid resources type: Update carries no resources");
        }
        JsonNode json = Bundle.parseJson(resources.getValue().toByteArray(), "the resources of Update");
        if (!json.isObject()) {
            throw new TtrpcException(StatusCode.INVALID_ARGUMENT, "Invalid resources type: the resources of Update are not an object");
        }
        LinuxResources parsed;
        try {
            parsed = OciJsonToAgentSpec.resources(json);
        } catch (RuntimeException e) {
            throw TtrpcException.of(StatusCode.INVALID_ARGUMENT, "Invalid resources type: %s", e.getMessage());
        }
        check(parsed);
        LinuxResources.Builder guest = parsed.toBuilder();
        if (guest.hasCPU()) {
            guest.getCPUBuilder().setCpus("").setMems("");
        }
        return guest.build();
    }

    private static void check(LinuxResources r) {
        if (r.hasMemory()) {
            LinuxMemory m = r.getMemory();
            bytes("memory.limit", m.getLimit());
            bytes("memory.reservation", m.getReservation());
            bytes("memory.swap", m.getSwap());
        }
        if (r.hasCPU()) {
            LinuxCPU c = r.getCPU();
            if (c.getShares() != 0 && (c.getShares() < MIN_SHARES || c.getShares() > MAX_SHARES)) {
                refuse("cpu.shares", c.getShares(), "between " + MIN_SHARES + " and " + MAX_SHARES);
            }
            if (c.getPeriod() != 0 && (c.getPeriod() < MIN_PERIOD || c.getPeriod() > MAX_PERIOD)) {
                refuse("cpu.period", c.getPeriod(), "between " + MIN_PERIOD + " and " + MAX_PERIOD + " µs");
            }
            if (c.getQuota() != 0 && c.getQuota() != -1 && c.getQuota() < MIN_PERIOD) {
                refuse("cpu.quota", c.getQuota(), "-1 (no limit) or at least " + MIN_PERIOD + " µs");
            }
        }
        if (r.hasPids() && r.getPids().getLimit() < -1) {
            refuse("pids.limit", r.getPids().getLimit(), "-1 (no limit), 0 (unchanged) or a positive number");
        }
    }

    private static void bytes(String field, long value) {
        if (value < -1 || value > MAX_BYTES) {
            refuse(field, value, "-1 (no limit), 0 (unchanged) or a number of bytes up to 1 EiB");
        }
    }

    private static void refuse(String field, long value, String expected) {
        throw TtrpcException.of(StatusCode.INVALID_ARGUMENT, "Update: %s = %d is out of range: it must be %s", field, value, expected);
    }
}
