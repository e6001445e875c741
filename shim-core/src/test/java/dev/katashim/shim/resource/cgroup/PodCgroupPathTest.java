package dev.katashim.shim.resource.cgroup;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

class PodCgroupPathTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static JsonNode spec(String type, String cgroupsPath) throws Exception {
        return JSON.readTree("{\"annotations\":{\"io.kubernetes.cri.container-type\":\"" + type + "\"},"
                + "\"linux\":{\"cgroupsPath\":\"" + cgroupsPath + "\"}}");
    }

    @Test
    void aCriSandboxsCgroupfsPathIsItsPodCgroupAndTheVmGoesBesideItAsKataId() throws Exception {
        Optional<String> pod = PodCgroupPath.of(spec("sandbox", "/kubepods/besteffort/pod12/abc"));
        assertThat(pod).hasValue("/kubepods/besteffort/pod12/abc");
        assertThat(SandboxCgroup.path("abc", pod)).isEqualTo("/kubepods/besteffort/pod12/kata_abc");
    }

    @Test
    void otherSandboxesAndSystemdPathsKeepTheOverheadCgroup() throws Exception {
        assertThat(PodCgroupPath.of(spec("container", "/kubepods/pod12/def"))).isEmpty();
        assertThat(PodCgroupPath.of(spec("sandbox", "kubepods-pod12.slice:cri-containerd:abc"))).isEmpty();
        assertThat(PodCgroupPath.of(spec("sandbox", "/kubepods/../etc"))).isEmpty();
        assertThat(PodCgroupPath.of(JSON.createObjectNode())).isEmpty();
        assertThat(SandboxCgroup.path("abc", Optional.empty())).isEqualTo("/kata_overhead/abc");
    }
}
