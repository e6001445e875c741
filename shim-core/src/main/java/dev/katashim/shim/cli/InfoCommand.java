package dev.katashim.shim.cli;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.katashim.protocols.containerd.types.RuntimeInfo;
import dev.katashim.protocols.containerd.types.RuntimeVersion;
import dev.katashim.protocols.runtimeoptions.v1.Options;
import dev.katashim.shim.config.ConfigException;
import dev.katashim.shim.config.RuntimeOptions;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;

/**
 * {@code -info}: containerd 2.x writes the runtime options Any (possibly nothing) to stdin and
 * decodes stdout as a {@code containerd.types.RuntimeInfo}: our runtime name and version, and the
 * options as we understood them, an Any of {@code runtimeoptions.v1.Options} (empty ones when none
 * came), which names our options type. Options we cannot read fail, as runc's shim fails on
 * options that are not its own. No features document: containerd then leaves the runtime's
 * optional features (user namespaces, recursive read-only mounts) off.
 */
final class InfoCommand {
    private InfoCommand() {
    }

    static int run(InputStream in, OutputStream out, PrintStream err) {
        try {
            RuntimeInfo info = info(in.readAllBytes(), ShimVersion.current());
            info.writeTo(out);
            out.flush();
            return 0;
        } catch (ConfigException e) {
            err.println("containerd-shim-kata-v2 -info: " + e.getMessage());
            return 1;
        } catch (IOException e) {
            err.println("containerd-shim-kata-v2 -info: " + e.getMessage());
            return 1;
        }
    }

    static RuntimeInfo info(byte[] stdin, ShimVersion version) {
        Options options = stdin.length == 0 ? Options.getDefaultInstance() : options(stdin);
        return RuntimeInfo.newBuilder()
                .setName(version.runtimeName())
                .setVersion(RuntimeVersion.newBuilder().setVersion(version.version()))
                // containerd compares type URLs as written: the bare full name, as it writes them itself
                .setOptions(Any.newBuilder().setTypeUrl(RuntimeOptions.TYPE).setValue(options.toByteString()))
                .build();
    }

    private static Options options(byte[] stdin) {
        Any any;
        try {
            any = Any.parseFrom(stdin);
        } catch (InvalidProtocolBufferException e) {
            throw new ConfigException("stdin (" + stdin.length + " bytes) is not runtime options (a google.protobuf.Any): "
                    + e.getMessage());
        }
        if (any.getTypeUrl().isEmpty()) {
            throw new ConfigException("stdin (" + stdin.length + " bytes) is not runtime options: a google.protobuf.Any"
                    + " without a type URL");
        }
        if (!RuntimeOptions.isOurs(any)) {
            throw new ConfigException("runtime options of type '" + any.getTypeUrl() + "': this shim reads "
                    + RuntimeOptions.TYPE + " (CRI's [...runtimes.<handler>.options] with ConfigPath)");
        }
        return RuntimeOptions.decode(any);
    }
}
