package dev.katashim.shim.task;

import dev.katashim.protocols.containerd.task.v2.CreateTaskRequest;
import dev.katashim.protocols.containerd.types.Mount;
import dev.katashim.shim.config.ConfigException;
import dev.katashim.shim.config.RuntimeOptions;
import dev.katashim.shim.io.StdioSpec;
import dev.katashim.shim.oci.Bundle;
import dev.katashim.shim.oci.ContainerType;
import dev.katashim.shim.oci.Identifiers;
import dev.katashim.ttrpc.status.StatusCode;
import dev.katashim.ttrpc.status.TtrpcException;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * A Create request, checked before anything is made: a valid id, a clean bundle path with a readable
 * config.json and a process, a root filesystem the bundle holds, its container type and stdio.
 */
record NewTask(String id, Bundle bundle, ContainerType type, StdioSpec stdio, List<Mount> rootfs, Optional<Path> configPath) {

    static NewTask of(CreateTaskRequest request) {
        String id = Identifiers.check("container id", request.getId());
        Bundle bundle = Bundle.open(request.getBundle());
        ContainerType type = ContainerType.of(id, bundle.annotations());
        bundle.checkRoot(request.getRootfsCount() > 0);
        if (!bundle.process().isObject()) {
            throw TtrpcException.of(StatusCode.INVALID_ARGUMENT, "config.json of %s has no process", id);
        }
        StdioSpec stdio = new StdioSpec(request.getStdin(), request.getStdout(), request.getStderr(), request.getTerminal());
        Optional<Path> configPath;
        try {
            // only a sandbox's first container decides the configuration
            configPath = type.startsSandbox() ? RuntimeOptions.configPath(request.getOptions()) : Optional.empty();
        } catch (ConfigException e) {
            throw new TtrpcException(StatusCode.INVALID_ARGUMENT, e.getMessage());
        }
        return new NewTask(id, bundle, type, stdio, request.getRootfsList(), configPath);
    }
}
