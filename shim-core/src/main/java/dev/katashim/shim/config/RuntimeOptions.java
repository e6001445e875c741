package dev.katashim.shim.config;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.katashim.protocols.runtimeoptions.v1.Options;

import java.nio.file.Path;
import java.util.Optional;

/**
 * containerd's runtime options for this shim (CRI's {@code [...runtimes.kata.options]}, or
 * {@code ctr --runtime-config-path}): an {@code Any} holding {@code runtimeoptions.v1.Options},
 * of which the shim reads {@code config_path}. The same Any arrives on {@code start}'s stdin and
 * in Create.
 */
public final class RuntimeOptions {
    private RuntimeOptions() {
    }

    public static Optional<Path> configPath(Any options) {
        if (options == null || !options.getTypeUrl().endsWith("runtimeoptions.v1.Options")) {
            return Optional.empty();
        }
        try {
            String path = Options.parseFrom(options.getValue()).getConfigPath();
            return path.isBlank() ? Optional.empty() : Optional.of(Path.of(path));
        } catch (InvalidProtocolBufferException e) {
            throw new ConfigException("cannot decode the runtime options (" + options.getTypeUrl() + "): " + e.getMessage());
        }
    }

    /** The options {@code start} saved from its stdin (a serialized Any), if any. */
    public static Optional<Path> configPathFromFile(Path savedStdin) {
        try {
            byte[] bytes = java.nio.file.Files.readAllBytes(savedStdin);
            return bytes.length == 0 ? Optional.empty() : configPath(Any.parseFrom(bytes));
        } catch (java.nio.file.NoSuchFileException e) {
            return Optional.empty();
        } catch (java.io.IOException e) {
            throw new ConfigException("cannot read the runtime options saved in " + savedStdin + ": " + e.getMessage());
        }
    }
}
