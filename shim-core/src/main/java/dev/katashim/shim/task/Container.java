package dev.katashim.shim.task;

import dev.katashim.shim.oci.Bundle;
import dev.katashim.shim.oci.ContainerType;

import java.util.LinkedHashMap;
import java.util.Map;

/** A container of the sandbox: its bundle, its init process, its execs by containerd exec id. */
final class Container {
    final String id;
    final Bundle bundle;
    final ContainerType type;
    final ShimProcess init;
    final Map<String, ShimProcess> execs = new LinkedHashMap<>();
    final RootfsMounts rootfs;

    Container(String id, Bundle bundle, ContainerType type, ShimProcess init, RootfsMounts rootfs) {
        this.id = id;
        this.bundle = bundle;
        this.type = type;
        this.init = init;
        this.rootfs = rootfs;
    }
}
