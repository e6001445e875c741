package dev.katashim.shim.config;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.katashim.protocols.containerd.runtime.bootstrap.v1.BootstrapParams;
import dev.katashim.protocols.containerd.runtime.bootstrap.v1.Extension;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.regex.Pattern;

/**
 * What containerd wrote to {@code start}'s stdin, which the launcher saves as it came: containerd
 * 2.3+ sends a {@code BootstrapParams} (the runtime options among its extensions), older releases
 * the runtime options {@code Any} itself, or nothing. Every Any also decodes as a BootstrapParams
 * (fields 1 and 2 are strings in both), so a BootstrapParams counts only when its instance id and
 * namespace are the {@code -id} and {@code -namespace} the shim was started with, as containerd's
 * own shims decide. The launcher applies the same rule before it answers (bin/containerd-shim-kata-v2).
 */
public sealed interface StartInput {

    /** containerd 2.3+. */
    record Bootstrap(BootstrapParams params) implements StartInput {
        @Override
        public Optional<Any> runtimeOptions() {
            return params.getExtensionsList().stream().map(Extension::getValue)
                    .filter(RuntimeOptions::isOurs).findFirst();
        }

        @Override
        public OptionalInt logLevel() {
            return OptionalInt.of(params.getLogLevelValue());
        }
    }

    /** containerd 1.6 to 2.2: the runtime options Any alone. */
    record OptionsAny(Any options) implements StartInput {
        @Override
        public Optional<Any> runtimeOptions() {
            return Optional.of(options);
        }
    }

    /** No runtime options at all (ctr without --runtime-config-path, a CRI runtime without options). */
    record Nothing() implements StartInput {
        @Override
        public Optional<Any> runtimeOptions() {
            return Optional.empty();
        }
    }

    /** The runtime options Any, if containerd gave one. */
    Optional<Any> runtimeOptions();

    /** containerd's shim log level ({@code LogLevel}: INFO 0, DEBUG -4, TRACE -8, WARN 4, ...), when it said. */
    default OptionalInt logLevel() {
        return OptionalInt.empty();
    }

    /** A type name as containerd writes it in an Any: bare ({@code runtimeoptions.v1.Options}) or behind a host. */
    Pattern TYPE_URL = Pattern.compile("[A-Za-z0-9_./-]*\\.[A-Za-z0-9_./-]*");

    /** Decodes {@code stdin}; garbage, or a BootstrapParams meant for another instance, is a ConfigException. */
    static StartInput decode(byte[] stdin, String id, String namespace) {
        if (stdin.length == 0) {
            return new Nothing();
        }
        BootstrapParams params = parseOrNull(stdin);
        if (params != null && params.getInstanceId().equals(id) && params.getNamespace().equals(namespace)) {
            return new Bootstrap(params);
        }
        if (params != null && setsMoreThanIdAndNamespace(params)) {
            throw new ConfigException("start: containerd's BootstrapParams are for instance '" + params.getInstanceId()
                    + "' in namespace '" + params.getNamespace() + "', but this shim was started with -id '" + id
                    + "' -namespace '" + namespace + "'");
        }
        try {
            Any options = Any.parseFrom(stdin);
            if (options.getUnknownFields().asMap().isEmpty() && TYPE_URL.matcher(options.getTypeUrl()).matches()) {
                return new OptionsAny(options);
            }
        } catch (InvalidProtocolBufferException notAnAny) {
            // reported below
        }
        throw new ConfigException("start: stdin (" + stdin.length + " bytes) is neither containerd's BootstrapParams for -id '"
                + id + "' -namespace '" + namespace + "' nor runtime options (a google.protobuf.Any)");
    }

    /** What the launcher saved; a missing file is no options (a shim started by hand). */
    static StartInput read(Path saved, String id, String namespace) {
        try {
            return decode(Files.readAllBytes(saved), id, namespace);
        } catch (NoSuchFileException e) {
            return new Nothing();
        } catch (IOException e) {
            throw new ConfigException("cannot read the start input saved in " + saved + ": " + e.getMessage());
        }
    }

    private static BootstrapParams parseOrNull(byte[] stdin) {
        try {
            return BootstrapParams.parseFrom(stdin);
        } catch (InvalidProtocolBufferException e) {
            return null;
        }
    }

    /** An Any never has fields 3 to 9: with one of them this was meant as a BootstrapParams. */
    private static boolean setsMoreThanIdAndNamespace(BootstrapParams p) {
        return p.getLogLevelValue() != 0 || !p.getContainerdVersion().isEmpty() || !p.getContainerdTtrpcAddress().isEmpty()
                || !p.getContainerdGrpcAddress().isEmpty() || !p.getContainerdBinary().isEmpty()
                || p.getExtensionsCount() > 0 || p.hasSocketDir();
    }
}
