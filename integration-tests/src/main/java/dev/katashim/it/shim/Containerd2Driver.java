package dev.katashim.it.shim;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.katashim.protocols.containerd.runtime.bootstrap.v1.BootstrapParams;
import dev.katashim.protocols.containerd.runtime.bootstrap.v1.BootstrapResult;
import dev.katashim.protocols.containerd.runtime.bootstrap.v1.Extension;
import dev.katashim.protocols.containerd.runtime.bootstrap.v1.LogLevel;
import dev.katashim.protocols.containerd.task.v2.DeleteResponse;
import dev.katashim.protocols.containerd.types.RuntimeInfo;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A stand-in for containerd 2.x's side of the shim's command line, done as its source does it
 * (v2.3.4: pkg/shim/util.go {@code Command}, core/runtime/v2/binary.go {@code Start} and
 * {@code Delete}, shim.go {@code parseStartResponse}, task_manager.go {@code getRuntimeInfo}),
 * because CI has only containerd 1.6. {@link Release#V2_2} is containerd 1.7 to 2.2 (the runtime
 * options Any on start's stdin), {@link Release#V2_3} 2.3+ (a BootstrapParams). Both set the
 * environment 1.7+ sets; the task and Sandbox APIs are then called over the address the reply
 * names (TaskApiClient, SandboxApiClient).
 */
public final class Containerd2Driver {
    private static final Duration START_TIMEOUT = Duration.ofSeconds(20);
    /** {@code io.containerd.timeout.shim.cleanup}. */
    private static final Duration DELETE_TIMEOUT = Duration.ofSeconds(5);
    private static final String CONTAINERD_BINARY = "/usr/bin/containerd";

    /** Which containerd writes start's stdin. */
    public enum Release {
        /** containerd 1.7 to 2.2: the runtime options Any (or nothing). */
        V2_2,
        /** containerd 2.3+: BootstrapParams, the runtime options among its extensions. */
        V2_3
    }

    /** What {@code parseStartResponse} makes of start's combined output. */
    public record StartReply(int version, String address, String protocol, byte[] output) {
        /** The socket path of a {@code unix://} address. */
        public Path socket() {
            if (!address.startsWith("unix://")) {
                throw new IllegalStateException("not a unix:// address: " + address);
            }
            return Path.of(address.substring("unix://".length()));
        }
    }

    /** A command's exit status with its combined output (start) or stdout and stderr apart (delete, -info). */
    public record Ran(int exitCode, byte[] stdout, byte[] stderr) {
        public String stderrText() {
            return new String(stderr, StandardCharsets.UTF_8);
        }

        public String outputText() {
            return new String(stdout, StandardCharsets.UTF_8) + stderrText();
        }
    }

    private final Path grpcAddress;
    private final Path ttrpcAddress;
    private final String namespace;
    private final Map<String, String> shimEnvironment;

    /**
     * @param grpcAddress     containerd's socket ({@code -address}; the shim's socket name hashes it)
     * @param shimEnvironment what the test adds to containerd's environment for the shim
     *                        ({@code KATA_SHIM_SANDBOX_ROOT}, ...), as containerd's {@code [plugins...shim] env}
     */
    public Containerd2Driver(Path grpcAddress, String namespace, Map<String, String> shimEnvironment) {
        this.grpcAddress = grpcAddress;
        this.ttrpcAddress = Path.of(grpcAddress + ".ttrpc");
        this.namespace = namespace;
        this.shimEnvironment = Map.copyOf(shimEnvironment);
    }

    public String namespace() {
        return namespace;
    }

    /** BootstrapParams as containerd 2.3's Command fills them. */
    public BootstrapParams bootstrapParams(String id, Optional<Any> runtimeOptions, Optional<Path> socketDir, boolean debug) {
        BootstrapParams.Builder params = BootstrapParams.newBuilder().setInstanceId(id).setNamespace(namespace)
                .setLogLevel(debug ? LogLevel.LOG_LEVEL_DEBUG : LogLevel.LOG_LEVEL_INFO).setContainerdVersion("v2.3.4")
                .setContainerdGrpcAddress(grpcAddress.toString()).setContainerdTtrpcAddress(ttrpcAddress.toString())
                .setContainerdBinary(CONTAINERD_BINARY);
        socketDir.ifPresent(dir -> params.setSocketDir(dir.toString()));
        runtimeOptions.ifPresent(options -> params.addExtensions(Extension.newBuilder().setValue(options)));
        return params.build();
    }

    /** {@code start} for {@code id} in {@code bundle} as {@code release} runs it; fails unless it succeeds. */
    public StartReply start(Path bundle, String id, Release release, Optional<Any> runtimeOptions, Optional<Path> socketDir,
                            boolean debug) throws IOException {
        byte[] stdin = switch (release) {
            case V2_2 -> runtimeOptions.map(Any::toByteArray).orElse(new byte[0]);
            case V2_3 -> bootstrapParams(id, runtimeOptions, socketDir, debug).toByteArray();
        };
        Ran ran = startRaw(bundle, id, stdin, debug);
        if (ran.exitCode() != 0) {
            throw new IOException("start failed: " + ran.outputText() + ": exit status " + ran.exitCode());
        }
        return parseStartResponse(ran.stdout());
    }

    /** {@code start} with {@code stdin} as it is; the output is stdout and stderr combined, as containerd reads it. */
    public Ran startRaw(Path bundle, String id, byte[] stdin, boolean debug) {
        List<String> args = new ArrayList<>(List.of(ShimProcessUnderTest.launcher().toString(), "-namespace", namespace,
                "-address", grpcAddress.toString(), "-publish-binary", CONTAINERD_BINARY, "-id", id));
        if (debug) {
            args.add("-debug");
        }
        args.add("start");
        return run(args, bundle, stdin, true, START_TIMEOUT);
    }

    /** {@code delete} as containerd runs it after a task's connection closed; its DeleteResponse. */
    public DeleteResponse delete(Path bundle, String id) throws IOException {
        Ran ran = run(List.of(ShimProcessUnderTest.launcher().toString(), "-namespace", namespace, "-address",
                grpcAddress.toString(), "-publish-binary", CONTAINERD_BINARY, "-id", id, "-bundle", bundle.toString(), "delete"),
                bundle, new byte[0], false, DELETE_TIMEOUT);
        if (ran.exitCode() != 0) {
            throw new IOException("delete failed: " + ran.stderrText() + ": exit status " + ran.exitCode());
        }
        return DeleteResponse.parseFrom(ran.stdout());
    }

    /** {@code -info} with the marshalled options on stdin, in containerd's working directory. */
    public Ran info(byte[] options) {
        return run(List.of(ShimProcessUnderTest.launcher().toString(), "-info"), Path.of("/"), options, false, START_TIMEOUT);
    }

    /** The RuntimeInfo {@code -info} printed; fails as containerd fails when it cannot decode one. */
    public static RuntimeInfo runtimeInfo(Ran ran) throws IOException {
        if (ran.exitCode() != 0) {
            throw new IOException("-info failed: " + ran.stderrText() + ": exit status " + ran.exitCode());
        }
        return RuntimeInfo.parseFrom(ran.stdout());
    }

    /** containerd 2.3's reading of start's output: a protobuf BootstrapResult, else JSON, else the plain address (v2). */
    public static StartReply parseStartResponse(byte[] output) throws IOException {
        try {
            BootstrapResult result = BootstrapResult.parseFrom(output);
            return new StartReply(result.getVersion(), result.getAddress(), result.getProtocol(), output);
        } catch (InvalidProtocolBufferException notProtobuf) {
            // legacy shims: JSON or a plain address
        }
        String text = new String(output, StandardCharsets.UTF_8).trim();
        try {
            JsonNode json = new ObjectMapper().readTree(text);
            if (json != null && json.isObject() && json.path("version").asInt() >= 2) {
                int version = json.path("version").asInt();
                if (version > 3) {
                    throw new IOException("unsupported shim version (" + version + ")");
                }
                return new StartReply(version, json.path("address").asText(), json.path("protocol").asText(), output);
            }
        } catch (com.fasterxml.jackson.core.JsonProcessingException plain) {
            // a plain address
        }
        return new StartReply(2, text, "ttrpc", output);
    }

    /** What containerd 1.7 to 2.2 accept: JSON with version 2 or 3 (1.7: 2 only), else the output as the address. */
    public static StartReply parseLegacyStartResponse(byte[] output) throws IOException {
        String text = new String(output, StandardCharsets.UTF_8);
        try {
            JsonNode json = new ObjectMapper().readTree(text);
            if (json != null && json.isObject() && json.path("version").asInt() >= 2) {
                return new StartReply(json.path("version").asInt(), json.path("address").asText(), json.path("protocol").asText(), output);
            }
        } catch (com.fasterxml.jackson.core.JsonProcessingException plain) {
            // a plain address
        }
        return new StartReply(2, text, "ttrpc", output);
    }

    /** containerd's environment for a shim: its own, GOMAXPROCS, MAX_SHIM_VERSION, TTRPC_ADDRESS, GRPC_ADDRESS, NAMESPACE. */
    public Map<String, String> environment() {
        Map<String, String> env = new LinkedHashMap<>(shimEnvironment);
        env.put("GOMAXPROCS", "2");
        env.put("MAX_SHIM_VERSION", "2");
        env.put("TTRPC_ADDRESS", ttrpcAddress.toString());
        env.put("GRPC_ADDRESS", grpcAddress.toString());
        env.put("NAMESPACE", namespace);
        return env;
    }

    private Ran run(List<String> command, Path cwd, byte[] stdin, boolean combined, Duration timeout) {
        ProcessBuilder builder = new ProcessBuilder(command).directory(cwd.toFile()).redirectErrorStream(combined);
        builder.environment().putAll(environment());
        try {
            Process process = builder.start();
            Thread writer = Thread.ofVirtual().start(() -> {
                try (OutputStream in = process.getOutputStream()) {
                    in.write(stdin);
                } catch (IOException ignored) {
                    // the command may not read its stdin
                }
            });
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            Thread outReader = Thread.ofVirtual().start(() -> copy(process.getInputStream(), out));
            Thread errReader = Thread.ofVirtual().start(() -> copy(process.getErrorStream(), err));
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                throw new IllegalStateException(String.join(" ", command) + " did not finish within " + timeout);
            }
            writer.join(timeout);
            // containerd reads until the pipes close: a serving shim holding them would hang it, and this too
            outReader.join(timeout);
            errReader.join(timeout);
            if (outReader.isAlive() || errReader.isAlive()) {
                throw new IllegalStateException(String.join(" ", command) + ": its output stayed open after it exited");
            }
            return new Ran(process.exitValue(), out.toByteArray(), err.toByteArray());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static void copy(InputStream in, ByteArrayOutputStream sink) {
        try (in) {
            in.transferTo(sink);
        } catch (IOException ignored) {
            // closed under us
        }
    }
}
