package dev.katashim.shim.oci;

import dev.katashim.ttrpc.status.StatusCode;
import dev.katashim.ttrpc.status.TtrpcException;

import java.util.List;
import java.util.Map;

/**
 * Whether a container starts a sandbox (a VM) or joins one, from the annotations CRI runtimes
 * set, as upstream decides it: containerd CRI, CRI-O, then dockershim; none → a single container.
 */
public sealed interface ContainerType {
    /** The sandbox this container belongs to (its own id for a sandbox or single container). */
    String sandboxId();

    boolean startsSandbox();

    record PodSandbox(String sandboxId) implements ContainerType {
        public boolean startsSandbox() {
            return true;
        }
    }

    record SingleContainer(String sandboxId) implements ContainerType {
        public boolean startsSandbox() {
            return true;
        }
    }

    record PodContainer(String sandboxId) implements ContainerType {
        public boolean startsSandbox() {
            return false;
        }
    }

    List<String> TYPE_KEYS = List.of("io.kubernetes.cri.container-type", "io.kubernetes.cri-o.ContainerType", "io.kubernetes.docker.type");
    List<String> SANDBOX_KEYS = List.of("io.kubernetes.cri.sandbox-id", "io.kubernetes.cri-o.SandboxID", "io.kubernetes.sandbox.id");

    static ContainerType of(String containerId, Map<String, String> annotations) {
        String type = firstPresent(annotations, TYPE_KEYS);
        if (type == null) {
            return new SingleContainer(containerId);
        }
        return switch (type) {
            case "sandbox", "podsandbox" -> new PodSandbox(containerId);
            case "container" -> {
                String sandbox = firstPresent(annotations, SANDBOX_KEYS);
                if (sandbox == null) {
                    throw new TtrpcException(StatusCode.INVALID_ARGUMENT, "Could not find sandbox ID for container " + containerId);
                }
                yield new PodContainer(Identifiers.check("sandbox id (in the annotations)", sandbox));
            }
            default -> throw new TtrpcException(StatusCode.INVALID_ARGUMENT, "Unknown container type " + type);
        };
    }

    private static String firstPresent(Map<String, String> annotations, List<String> keys) {
        for (String key : keys) {
            String value = annotations.get(key);
            if (value != null) {
                return value;
            }
        }
        return null;
    }
}
