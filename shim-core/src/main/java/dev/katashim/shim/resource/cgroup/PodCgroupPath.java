package dev.katashim.shim.resource.cgroup;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.Optional;

/**
 * The host cgroup a CRI pod's sandbox container names ({@code linux.cgroupsPath} of the sandbox's
 * spec, {@code <pod cgroup>/<sandbox id>} with the cgroupfs driver), where the pod's VM belongs.
 * Only a CRI sandbox's (annotation {@code io.kubernetes.cri.container-type = sandbox}) and only a
 * cgroupfs path: a systemd driver's {@code slice:prefix:name} is a unit to create through systemd,
 * which this shim does not do, so such a pod's VM stays in {@code /kata_overhead}.
 */
public final class PodCgroupPath {
    static final String CONTAINER_TYPE = "io.kubernetes.cri.container-type";

    private PodCgroupPath() {
    }

    /** From a sandbox container's OCI config.json. */
    public static Optional<String> of(JsonNode config) {
        if (!"sandbox".equals(config.path("annotations").path(CONTAINER_TYPE).asText(""))) {
            return Optional.empty();
        }
        String path = config.path("linux").path("cgroupsPath").asText("");
        if (!path.startsWith("/") || path.length() < 2 || path.contains("..") || path.endsWith("/")) {
            return Optional.empty();
        }
        return Optional.of(path);
    }
}
