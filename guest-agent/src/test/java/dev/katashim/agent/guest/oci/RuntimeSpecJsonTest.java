package dev.katashim.agent.guest.oci;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.katashim.agent.guest.support.Specs;
import dev.katashim.protocols.kata.agent.LinuxCPU;
import dev.katashim.protocols.kata.agent.LinuxDeviceCgroup;
import dev.katashim.protocols.kata.agent.LinuxMemory;
import dev.katashim.protocols.kata.agent.LinuxNamespace;
import dev.katashim.protocols.kata.agent.LinuxResources;
import dev.katashim.protocols.kata.agent.LinuxSeccomp;
import dev.katashim.protocols.kata.agent.LinuxSyscall;
import dev.katashim.protocols.kata.agent.POSIXRlimit;
import dev.katashim.protocols.kata.agent.Process;
import dev.katashim.protocols.kata.agent.Spec;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class RuntimeSpecJsonTest {

    @Test
    void configJsonHasTheAgentsRootAndCgroupAndTheSpecsProcess() {
        Spec spec = Specs.busybox(Path.of("/ignored"), "sh", "-c", "true").build();
        ObjectNode config = RuntimeSpecJson.config(spec, Path.of("/run/rootfs"), "/kata-agent/c1");

        assertThat(config.path("ociVersion").asText()).isEqualTo("1.0.2");
        assertThat(config.path("root").path("path").asText()).isEqualTo("/run/rootfs");
        assertThat(config.path("linux").path("cgroupsPath").asText()).isEqualTo("/kata-agent/c1");
        assertThat(config.path("process").path("args").toString()).isEqualTo("[\"sh\",\"-c\",\"true\"]");
        assertThat(config.path("process").path("cwd").asText()).isEqualTo("/");
        assertThat(config.path("process").path("capabilities").path("bounding")).hasSize(3);
        assertThat(config.path("mounts")).hasSize(6);
        assertThat(config.path("mounts").get(0).path("type").asText()).isEqualTo("proc");
        assertThat(config.path("linux").path("namespaces")).hasSize(5);
        assertThat(config.path("linux").path("maskedPaths").get(0).asText()).isEqualTo("/proc/acpi");
        assertThat(config.path("linux").path("resources").isEmpty()).isTrue();
        assertThat(config.has("hooks")).isFalse();
    }

    @Test
    void zeroMeansAbsentAndUint64StaysUnsigned() {
        Process process = Specs.process("true").toBuilder().setCwd("")
                .setRlimits(0, POSIXRlimit.newBuilder().setType("RLIMIT_NOFILE").setHard(-1L).setSoft(1024)).build();
        JsonNode json = RuntimeSpecJson.process(process);
        assertThat(json.path("cwd").asText()).isEqualTo("/");
        assertThat(json.path("rlimits").get(0).path("hard").toString()).isEqualTo("18446744073709551615");
        assertThat(json.has("oomScoreAdj")).isFalse();
        assertThat(json.has("consoleSize")).isFalse();

        JsonNode resources = RuntimeSpecJson.resources(LinuxResources.newBuilder()
                .setMemory(LinuxMemory.newBuilder().setLimit(1 << 20))
                .setCPU(LinuxCPU.newBuilder().setQuota(-1).setCpus("0-1"))
                .addDevices(LinuxDeviceCgroup.newBuilder().setAllow(false).setAccess("rwm"))
                .addDevices(LinuxDeviceCgroup.newBuilder().setAllow(true).setType("c").setMajor(1).setMinor(3).setAccess("rwm"))
                .build());
        assertThat(resources.path("memory").toString()).isEqualTo("{\"limit\":1048576}");
        assertThat(resources.path("cpu").toString()).isEqualTo("{\"quota\":-1,\"cpus\":\"0-1\"}");
        assertThat(resources.path("devices").get(0).toString()).isEqualTo("{\"allow\":false,\"type\":\"a\",\"access\":\"rwm\"}");
        assertThat(resources.path("devices").get(1).path("major").asLong()).isEqualTo(1);
        assertThat(resources.has("pids")).isFalse();
    }

    @Test
    void namespacePathsAndSeccompErrnoAreKeptWhenGiven() {
        Spec spec = Specs.busybox(Path.of("/r"), "true")
                .setLinux(Specs.busybox(Path.of("/r"), "true").getLinux().toBuilder()
                        .addNamespaces(LinuxNamespace.newBuilder().setType("network").setPath("/var/run/netns/x"))
                        .setSeccomp(LinuxSeccomp.newBuilder().setDefaultAction("SCMP_ACT_ALLOW")
                                .addSyscalls(LinuxSyscall.newBuilder().addNames("mkdir").setAction("SCMP_ACT_ERRNO").setErrnoret(1))
                                .addSyscalls(LinuxSyscall.newBuilder().addNames("rmdir").setAction("SCMP_ACT_ERRNO"))))
                .build();
        JsonNode linux = RuntimeSpecJson.config(spec, Path.of("/r"), "/p/c").path("linux");
        assertThat(linux.path("namespaces").get(5).path("path").asText()).isEqualTo("/var/run/netns/x");
        assertThat(linux.path("namespaces").get(0).has("path")).isFalse();
        assertThat(linux.path("seccomp").path("syscalls").get(0).path("errnoRet").asInt()).isEqualTo(1);
        assertThat(linux.path("seccomp").path("syscalls").get(1).has("errnoRet")).isFalse();
    }
}
