package dev.katashim.shim.config;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.katashim.protocols.runtimeoptions.v1.Options;

import java.nio.file.Path;
import java.util.Optional;

/**
 * containerd's runtime options for this shim (CRI's {@code [...runtimes.kata.options]}, or
 * {@code ctr --runtime-config-path}): an {@code Any} holding {@code runtimeoptions.v1.Options},
 * of which the shim reads {@code config_path} (containerd 2.x's {@code config_body} is CRI's
 * options table, not Kata's configuration: ignored). The same Any arrives with {@code start}
 * ({@link StartInput}) and in Create.
 */
public final class RuntimeOptions {
    public static final String TYPE = "runtimeoptions.v1.Options";

    private RuntimeOptions() {
    }

    /** Whether {@code options} holds our options type (bare type URL, or behind a host as protobuf's Any.pack writes it). */
    public static boolean isOurs(Any options) {
        String url = options.getTypeUrl();
        return url.equals(TYPE) || url.endsWith("/" + TYPE);
    }

    public static Optional<Path> configPath(Any options) {
        if (options == null || !isOurs(options)) {
            return Optional.empty();
        }
        String path = decode(options).getConfigPath();
        if (path.isBlank()) {
            return Optional.empty();
        }
        try {
            return Optional.of(Path.of(path));
        } catch (java.nio.file.InvalidPathException e) {
            throw new ConfigException("the runtime options' ConfigPath " + dev.katashim.shim.oci.HostPath.quoted(path)
                    + " is not a valid path: " + e.getReason());
        }
    }

    /** The Options in {@code options}, which must be of our type. */
    public static Options decode(Any options) {
        try {
            return Options.parseFrom(options.getValue());
        } catch (InvalidProtocolBufferException e) {
            throw new ConfigException("cannot decode the runtime options (" + options.getTypeUrl() + "): " + e.getMessage());
        }
    }

    /** The ConfigPath in the start input the launcher saved. */
    public static Optional<Path> configPath(StartInput input) {
        return input.runtimeOptions().flatMap(RuntimeOptions::configPath);
    }
}
