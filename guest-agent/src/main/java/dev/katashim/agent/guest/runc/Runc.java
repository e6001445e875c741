package dev.katashim.agent.guest.runc;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The runc binary with this agent's own state root ({@code --root}). The commands that make a
 * process ({@code run}, {@code create}, {@code exec}) are returned as {@link ProcessBuilder}s for
 * the caller to start and own; everything else runs to completion here and throws
 * {@link RuncException} with runc's message when it fails.
 */
public final class Runc {
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(30);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path binary;
    private final Path root;
    private final boolean noPivot;

    /**
     * @param noPivot use {@code --no-pivot} (the agent's own root is a ramfs/initramfs, where
     *                pivot_root(2) is not possible)
     */
    public Runc(Path binary, Path root, boolean noPivot) {
        this.binary = binary;
        this.root = root;
        this.noPivot = noPivot;
    }

    public Path root() {
        return root;
    }

    public Path binary() {
        return binary;
    }

    private List<String> base(Path logFile) {
        List<String> command = new ArrayList<>(List.of(binary.toString(), "--root", root.toString()));
        if (logFile != null) {
            command.addAll(List.of("--log", logFile.toString(), "--log-format", "json"));
        }
        return command;
    }

    /**
     * {@code runc run --detach}: runc exits once the container's init runs and leaves it to the
     * agent (its subreaper), which reaps it and deletes the container when it chooses. With a
     * console socket runc sends the terminal's master there; else the process keeps runc's stdio.
     */
    public ProcessBuilder run(String id, Path bundle, Path pidFile, Path logFile, Path consoleSocket) {
        return containerCommand("run", id, bundle, pidFile, logFile, consoleSocket);
    }

    /**
     * {@code runc create}: as {@link #run}, but the init waits before exec'ing the container's
     * process until {@link #start}; its pid, cgroup and terminal exist meanwhile.
     */
    public ProcessBuilder create(String id, Path bundle, Path pidFile, Path logFile, Path consoleSocket) {
        return containerCommand("create", id, bundle, pidFile, logFile, consoleSocket);
    }

    private ProcessBuilder containerCommand(String verb, String id, Path bundle, Path pidFile, Path logFile, Path consoleSocket) {
        List<String> command = base(logFile);
        command.addAll(List.of(verb, "--bundle", bundle.toString(), "--pid-file", pidFile.toString()));
        if (verb.equals("run")) {
            command.add("--detach");
        }
        if (noPivot) {
            command.add("--no-pivot");
        }
        if (consoleSocket != null) {
            command.addAll(List.of("--console-socket", consoleSocket.toString()));
        }
        command.add(id);
        return new ProcessBuilder(command).directory(bundle.toFile());
    }

    /** Lets a {@link #create created} container's init exec its process. */
    public void start(String id) throws RuncException {
        call("runc start " + id, List.of("start", id));
    }

    /** {@code runc exec --detach} with a process.json (stdio or console socket as for {@link #run}). */
    public ProcessBuilder exec(String id, Path processJson, Path pidFile, Path logFile, Path consoleSocket) {
        List<String> command = base(logFile);
        command.addAll(List.of("exec", "--detach", "--process", processJson.toString(), "--pid-file", pidFile.toString()));
        if (consoleSocket != null) {
            command.addAll(List.of("--console-socket", consoleSocket.toString()));
        }
        command.add(id);
        return new ProcessBuilder(command);
    }

    public void kill(String id, int signal, boolean all) throws RuncException {
        List<String> args = new ArrayList<>(List.of("kill"));
        if (all) {
            args.add("--all");
        }
        args.addAll(List.of(id, Integer.toString(signal)));
        call("runc kill " + id, args);
    }

    public void pause(String id) throws RuncException {
        call("runc pause " + id, List.of("pause", id));
    }

    public void resume(String id) throws RuncException {
        call("runc resume " + id, List.of("resume", id));
    }

    public void update(String id, Path resourcesJson) throws RuncException {
        call("runc update " + id, List.of("update", "--resources", resourcesJson.toString(), id));
    }

    public void delete(String id, boolean force) throws RuncException {
        call("runc delete " + id, force ? List.of("delete", "--force", id) : List.of("delete", id));
    }

    /** The {@code data} of {@code runc events --stats}: one cgroup statistics sample. */
    public JsonNode stats(String id) throws RuncException {
        String out = call("runc events --stats " + id, List.of("events", "--stats", id));
        JsonNode event = parse("runc events --stats " + id, out);
        return event.path("data");
    }

    /** Host pids of every process of the container. */
    public List<Long> pids(String id) throws RuncException {
        String out = call("runc ps " + id, List.of("ps", "--format", "json", id));
        List<Long> pids = new ArrayList<>();
        for (JsonNode pid : parse("runc ps " + id, out)) {
            pids.add(pid.asLong());
        }
        return pids;
    }

    /** {@code runc ps} with ps(1) options, as text (ListProcesses' "table" format). */
    public String psTable(String id, List<String> psArgs) throws RuncException {
        List<String> args = new ArrayList<>(List.of("ps", id));
        args.addAll(psArgs);
        return call("runc ps " + id, args);
    }

    /** {@code runc state}, or empty when runc has no such container. */
    public Optional<JsonNode> state(String id) throws RuncException {
        try {
            return Optional.of(parse("runc state " + id, call("runc state " + id, List.of("state", id))));
        } catch (RuncException e) {
            if (e.containerMissing()) {
                return Optional.empty();
            }
            throw e;
        }
    }

    /** Ids of every container in this agent's runc root. */
    public List<String> list() throws RuncException {
        String out = call("runc list", List.of("list", "--format", "json"));
        List<String> ids = new ArrayList<>();
        JsonNode list = parse("runc list", out);
        for (JsonNode container : list) {
            ids.add(container.path("id").asText());
        }
        return ids;
    }

    private static JsonNode parse(String action, String out) throws RuncException {
        try {
            return JSON.readTree(out.isBlank() ? "null" : out);
        } catch (IOException e) {
            throw new RuncException(action, -1, "unreadable output: " + e.getMessage());
        }
    }

    /** Runs runc with {@code args} to completion; returns its stdout. */
    private String call(String action, List<String> args) throws RuncException {
        List<String> command = base(null);
        command.addAll(args);
        Process process;
        try {
            process = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        } catch (IOException e) {
            throw new RuncException(action, -1, "cannot start " + binary + ": " + e.getMessage());
        }
        CompletableFuture<byte[]> stdout = drain(process.getInputStream());
        CompletableFuture<byte[]> stderr = drain(process.getErrorStream());
        try {
            if (!process.waitFor(COMMAND_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor();
                throw new RuncException(action, -1, "timed out after " + COMMAND_TIMEOUT.toSeconds() + " s");
            }
            String err = new String(stderr.join(), StandardCharsets.UTF_8);
            String out = new String(stdout.join(), StandardCharsets.UTF_8);
            if (process.exitValue() != 0) {
                throw new RuncException(action, process.exitValue(), RuncLog.lastError(err));
            }
            return out;
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new RuncException(action, -1, "interrupted");
        }
    }

    private static CompletableFuture<byte[]> drain(InputStream in) {
        CompletableFuture<byte[]> result = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            try (in) {
                ByteArrayOutputStream buffer = new ByteArrayOutputStream();
                in.transferTo(buffer);
                result.complete(buffer.toByteArray());
            } catch (IOException e) {
                result.complete(new byte[0]);
            }
        });
        return result;
    }

    /** Writes a JSON document for runc to read (config.json, process.json, resources). */
    public static void writeJson(Path file, JsonNode document) {
        try {
            Files.write(file, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(document));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    public static ObjectMapper json() {
        return JSON;
    }
}
