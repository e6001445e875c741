package dev.katashim.shim.oci;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.katashim.ttrpc.status.StatusCode;
import dev.katashim.ttrpc.status.TtrpcException;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A bundle's OCI hooks, run on the host at their points as upstream runs them (never in the
 * guest): each with exactly its path, args and env, the container's state as JSON on stdin, its
 * output kept for the error; in order, the first failure stops the rest. A hook without a timeout
 * gets {@link #DEFAULT_TIMEOUT}: a hook that hangs must not hang the shim's Create.
 */
public final class OciHooks {
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);
    /** How long a killed hook's output may take to be read to its end (a busy machine is slow to schedule the reader). */
    private static final Duration OUTPUT_GRACE = Duration.ofSeconds(10);
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The points of the OCI lifecycle where the shim runs hooks, by their config.json names. */
    public enum Point {
        PRESTART("prestart"), CREATE_RUNTIME("createRuntime"), POSTSTART("poststart"), POSTSTOP("poststop");

        final String key;

        Point(String key) {
            this.key = key;
        }
    }

    private record Hook(String path, List<String> args, List<String> env, Duration timeout) {
    }

    private OciHooks() {
    }

    /**
     * Runs the bundle's hooks of {@code points}, in order, for container {@code id} whose state is
     * {@code status} with {@code pid}; the first that fails or times out fails with FAILED_PRECONDITION
     * naming it, its exit and its output.
     */
    public static void run(Bundle bundle, List<Point> points, String id, String status, int pid) throws InterruptedException {
        JsonNode hooks = bundle.config().path("hooks");
        if (!hooks.isObject()) {
            return;
        }
        byte[] state = state(bundle, id, status, pid);
        for (Point point : points) {
            for (JsonNode node : hooks.path(point.key)) {
                runOne(point, hook(node), state);
            }
        }
    }

    private static Hook hook(JsonNode node) {
        List<String> args = new ArrayList<>();
        node.path("args").forEach(a -> args.add(a.asText()));
        List<String> env = new ArrayList<>();
        node.path("env").forEach(e -> env.add(e.asText()));
        long timeout = node.path("timeout").asLong(0);
        return new Hook(node.path("path").asText(""), args, env, timeout > 0 ? Duration.ofSeconds(timeout) : DEFAULT_TIMEOUT);
    }

    private static byte[] state(Bundle bundle, String id, String status, int pid) {
        ObjectNode state = JSON.createObjectNode()
                .put("ociVersion", bundle.config().path("ociVersion").asText(""))
                .put("id", id).put("status", status).put("pid", pid).put("bundle", bundle.path().toString());
        state.set("annotations", bundle.config().path("annotations").isObject() ? bundle.config().path("annotations") : JSON.createObjectNode());
        return state.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static void runOne(Point point, Hook hook, byte[] state) throws InterruptedException {
        String what = point.key + " hook " + hook.path();
        if (hook.path().isEmpty()) {
            throw TtrpcException.of(StatusCode.INVALID_ARGUMENT, "a %s hook has no path", point.key);
        }
        List<String> command = new ArrayList<>();
        command.add(hook.path());
        command.addAll(hook.args().isEmpty() ? List.of() : hook.args().subList(1, hook.args().size())); // args[0] is the name
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().clear();
        for (String variable : hook.env()) {
            int eq = variable.indexOf('=');
            if (eq > 0) {
                builder.environment().put(variable.substring(0, eq), variable.substring(eq + 1));
            }
        }
        Process process;
        try {
            process = builder.start();
        } catch (IOException e) {
            throw TtrpcException.of(StatusCode.FAILED_PRECONDITION, "%s cannot start: %s", what, e.getMessage());
        }
        CompletableFuture<String> output = CompletableFuture.supplyAsync(() -> {
            try {
                return new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            } catch (IOException e) {
                return "";
            }
        }, Thread::startVirtualThread);
        try (OutputStream stdin = process.getOutputStream()) {
            stdin.write(state);
        } catch (IOException ignored) {
            // a hook need not read its state
        }
        if (!process.waitFor(hook.timeout().toMillis(), TimeUnit.MILLISECONDS)) {
            // through the handle: Process.destroyForcibly() also closes our end of the pipe, and the
            // output the hook wrote before it hung (what tells the user why) would race with that close
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.toHandle().destroyForcibly();
            process.waitFor();
            throw TtrpcException.of(StatusCode.FAILED_PRECONDITION, "%s timed out after %d s (Hook timeout): %s",
                    what, hook.timeout().toSeconds(), output.completeOnTimeout("", OUTPUT_GRACE.toSeconds(), TimeUnit.SECONDS).join());
        }
        if (process.exitValue() != 0) {
            throw TtrpcException.of(StatusCode.FAILED_PRECONDITION, "%s failed with exit status %d: %s",
                    what, process.exitValue(), output.join());
        }
    }
}
