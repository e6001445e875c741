package dev.katashim.shim.oci;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.katashim.protocols.kata.agent.LinuxNamespace;
import dev.katashim.protocols.kata.agent.Spec;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** What a CRI container's spec becomes for the guest: nothing in it names the host. */
class GuestSpecTest {
    private static final String CRI_SPEC = """
            {"ociVersion":"1.1.0","process":{"args":["/pause"],"selinuxLabel":"system_u:system_r:container_t:s0"},
             "root":{"path":"rootfs"},"hostname":"pod",
             "hooks":{"prestart":[{"path":"/usr/bin/hook"}]},
             "linux":{"cgroupsPath":"kubepods-besteffort-pod1.slice:cri-containerd:abc","mountLabel":"x",
               "namespaces":[{"type":"pid","path":"/proc/4242/ns/pid"},{"type":"ipc"},{"type":"uts","path":"/proc/1/ns/uts"},
                             {"type":"mount"},{"type":"network","path":"/var/run/netns/cni-1234"},{"type":"cgroup"}],
               "devices":[{"path":"/dev/fuse","type":"c","major":10,"minor":229}],
               "resources":{"devices":[{"allow":false,"access":"rwm"}],"memory":{"limit":268435456},
                 "cpu":{"shares":512,"quota":50000,"period":100000,"cpus":"0-3","mems":"0"},"pids":{"limit":100}},
               "seccomp":{"defaultAction":"SCMP_ACT_ERRNO"}}}
            """;

    private static Spec spec() throws Exception {
        return OciJsonToAgentSpec.spec(new ObjectMapper().readTree(CRI_SPEC));
    }

    @Test
    void hostPathsHooksAndHostOnlyRulesAreGone() throws Exception {
        GuestSpec.Constrained guest = GuestSpec.constrain(spec(), false);
        Spec s = guest.spec();
        assertThat(s.hasHooks()).isFalse();
        assertThat(s.getLinux().hasSeccomp()).isFalse();
        assertThat(s.getProcess().getSelinuxLabel()).isEmpty();
        assertThat(s.getLinux().getMountLabel()).isEmpty();
        assertThat(s.getLinux().getDevicesList()).isEmpty();
        assertThat(s.getLinux().getResources().getDevicesList()).isEmpty();
        assertThat(s.getLinux().getResources().hasPids()).isFalse();
        assertThat(s.getLinux().getResources().getCPU().getCpus()).isEmpty();
        assertThat(s.getLinux().getResources().getCPU().getMems()).isEmpty();
        assertThat(s.getLinux().getResources().getCPU().getQuota()).isEqualTo(50000);
        assertThat(s.getLinux().getResources().getMemory().getLimit()).isEqualTo(268435456);
        assertThat(s.getLinux().getNamespacesList()).extracting(LinuxNamespace::getType).containsExactly("ipc", "uts", "mount");
        assertThat(s.getLinux().getNamespacesList()).allMatch(ns -> ns.getPath().isEmpty());
        assertThat(s.getLinux().getCgroupsPath()).isEqualTo("/kubepods-besteffort-pod1.slice/cri-containerd-abc");
        assertThat(s.getHostname()).isEqualTo("pod");
        assertThat(guest.sandboxPidNamespace()).isTrue();
    }

    @Test
    void seccompStaysWhenTheConfigurationPassesIt() throws Exception {
        assertThat(GuestSpec.constrain(spec(), true).spec().getLinux().getSeccomp().getDefaultAction()).isEqualTo("SCMP_ACT_ERRNO");
    }

    @Test
    void aPidNamespaceWithoutPathIsAPrivateOne() throws Exception {
        Spec privatePid = spec().toBuilder().setLinux(spec().getLinux().toBuilder().clearNamespaces()
                .addNamespaces(LinuxNamespace.newBuilder().setType("pid"))).build();
        assertThat(GuestSpec.constrain(privatePid, false).sandboxPidNamespace()).isFalse();
        assertThat(GuestSpec.cgroupfsPath("/kubepods/pod1/abc")).isEqualTo("/kubepods/pod1/abc");
    }
}
