package dev.katashim.shim.oci;

import dev.katashim.protocols.kata.agent.Linux;
import dev.katashim.protocols.kata.agent.LinuxNamespace;
import dev.katashim.protocols.kata.agent.LinuxResources;
import dev.katashim.protocols.kata.agent.Spec;

import java.util.Set;

/**
 * A container's spec made fit for the guest, as upstream's constrainGRPCSpec does: nothing in it
 * names the host. Hooks run on the host, never in the guest; seccomp goes unless the configuration
 * passes it; SELinux labels go (the guest runs none); device, pids, block-IO and network cgroup
 * rules go, and so do cpuset cpus/mems (host CPU and NUMA numbers mean nothing in the VM); host
 * device nodes go (none is shared); the network, cgroup and time namespaces go (the guest has its
 * own), and the other namespaces lose their host paths: the agent joins the sandbox's shared IPC
 * and UTS namespaces, and the sandbox's PID namespace when the spec asked to share one. A systemd
 * cgroup path ({@code slice:prefix:name}) becomes a cgroupfs path: the guest has no systemd.
 */
public final class GuestSpec {
    private static final Set<String> DROPPED_NAMESPACES = Set.of("network", "cgroup", "time");

    private GuestSpec() {
    }

    /** The spec for the guest, and whether the container joins the sandbox's PID namespace. */
    public record Constrained(Spec spec, boolean sandboxPidNamespace) {
    }

    public static Constrained constrain(Spec spec, boolean passSeccomp) {
        Spec.Builder guest = spec.toBuilder().clearHooks();
        if (guest.hasProcess()) {
            guest.getProcessBuilder().setSelinuxLabel("");
        }
        boolean sharedPid = false;
        if (guest.hasLinux()) {
            Linux.Builder linux = guest.getLinuxBuilder();
            if (!passSeccomp) {
                linux.clearSeccomp();
            }
            linux.setMountLabel("").clearDevices().setCgroupsPath(cgroupfsPath(linux.getCgroupsPath()));
            if (linux.hasResources()) {
                LinuxResources.Builder resources = linux.getResourcesBuilder().clearDevices().clearPids().clearBlockIO().clearNetwork();
                if (resources.hasCPU()) {
                    resources.getCPUBuilder().setCpus("").setMems("");
                }
            }
            linux.clearNamespaces();
            for (LinuxNamespace ns : spec.getLinux().getNamespacesList()) {
                if (ns.getType().equals("pid")) {
                    sharedPid = !ns.getPath().isEmpty(); // CRI names the sandbox's pid namespace for shareProcessNamespace
                } else if (!DROPPED_NAMESPACES.contains(ns.getType())) {
                    linux.addNamespaces(ns.toBuilder().setPath(""));
                }
            }
        }
        return new Constrained(guest.build(), sharedPid);
    }

    /** {@code kubepods-pod1.slice:cri-containerd:abc} → {@code /kubepods-pod1.slice/cri-containerd-abc}; cgroupfs paths stay. */
    static String cgroupfsPath(String path) {
        String[] parts = path.split(":", -1);
        if (path.startsWith("/") || parts.length != 3) {
            return path;
        }
        return "/" + parts[0] + "/" + parts[1] + "-" + parts[2];
    }
}
