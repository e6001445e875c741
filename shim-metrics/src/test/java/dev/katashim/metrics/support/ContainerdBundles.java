package dev.katashim.metrics.support;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Task bundles as containerd keeps them in its state directory,
 * {@code <state>/io.containerd.runtime.v2.task/<namespace>/<id>/config.json}, with the annotations
 * containerd 1.6's CRI plugin writes for a pod's sandbox and for its containers.
 */
public record ContainerdBundles(Path state) {
    public Path configOf(String namespace, String id) throws IOException {
        return Files.createDirectories(state.resolve("io.containerd.runtime.v2.task").resolve(namespace).resolve(id)).resolve("config.json");
    }

    /** Any config.json content (garbage included). */
    public Path write(String namespace, String id, String config) throws IOException {
        return Files.writeString(configOf(namespace, id), config);
    }

    public Path sandbox(String id, String uid, String name, String namespace) throws IOException {
        return write("k8s.io", id, """
                {"ociVersion":"1.0.2-dev","process":{"args":["/pause"]},"annotations":{
                 "io.kubernetes.cri.container-type":"sandbox","io.kubernetes.cri.sandbox-id":"%s",
                 "io.kubernetes.cri.sandbox-uid":"%s","io.kubernetes.cri.sandbox-name":"%s",
                 "io.kubernetes.cri.sandbox-namespace":"%s"},"linux":{"namespaces":[{"type":"pid"}]}}
                """.formatted(id, uid, name, namespace));
    }

    public Path container(String id, String sandboxId, String name) throws IOException {
        return write("k8s.io", id, """
                {"ociVersion":"1.0.2-dev","process":{"args":["/bin/sh"],"env":["PATH=/bin"]},"annotations":{
                 "io.kubernetes.cri.container-type":"container","io.kubernetes.cri.sandbox-id":"%s",
                 "io.kubernetes.cri.container-name":"%s","io.kubernetes.cri.image-name":"busybox:latest"},
                 "linux":{"resources":{}}}
                """.formatted(sandboxId, name));
    }
}
