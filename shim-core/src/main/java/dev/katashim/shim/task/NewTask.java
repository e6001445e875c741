package dev.katashim.shim.task;

import dev.katashim.protocols.containerd.task.v2.CreateTaskRequest;
import dev.katashim.protocols.containerd.types.Mount;
import dev.katashim.shim.config.ConfigException;
import dev.katashim.shim.config.RuntimeOptions;
import dev.katashim.shim.io.StdioSpec;
import dev.katashim.shim.oci.Bundle;
import dev.katashim.shim.oci.ContainerType;
import dev.katashim.shim.oci.HostPath;
import dev.katashim.ttrpc.status.StatusCode;
import dev.katashim.ttrpc.status.TtrpcException;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/** A Create request, checked: a valid id, a readable bundle with a process, its container type and stdio. */
record NewTask(String id, Bundle bundle, ContainerType type, StdioSpec stdio, List<Mount> rootfs, Optional<Path> configPath) {
    private static final Pattern VALID_ID = Pattern.compile("^[a-zA-Z0-9][a-zA-Z0-9_.-]+$");

    static NewTask of(CreateTaskRequest request) {
        String id = request.getId();
        if (!VALID_ID.matcher(id).matches()) {
            throw TtrpcException.of(StatusCode.INVALID_ARGUMENT, "invalid container id '%s': must match %s", id, VALID_ID.pattern());
        }
        Bundle bundle = Bundle.read(HostPath.absolute(request.getBundle(), "bundle"));
        ContainerType type = ContainerType.of(id, bundle.annotations());
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
