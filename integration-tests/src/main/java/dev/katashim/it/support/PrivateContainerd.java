package dev.katashim.it.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;

/**
 * A real containerd (the host's /usr/bin/containerd) with a private config, root, state and sockets in a
 * fresh short temp dir, and a namespace of its own. {@link #close()} removes every trace, also when a test failed.
 */
public final class PrivateContainerd implements AutoCloseable {

    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Duration CLEANUP_COMMAND_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration STOP_GRACE = Duration.ofSeconds(5);

    private final Path tempDir;
    private final Path root;
    private final Path state;
    private final Path grpcSocket;
    private final Path ttrpcSocket;
    private final Path logFile;
    private final String namespace;
    private final Duration commandTimeout;
    private final CtrCommandLine ctr;
    private final Thread shutdownHook;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final PrivateContainerdBuilder options;
    private volatile Process containerd;

    public static PrivateContainerdBuilder builder() {
        return new PrivateContainerdBuilder();
    }

    /** A containerd with the defaults: no CRI, the host's PATH. */
    public static PrivateContainerd start() {
        return builder().start();
    }

    PrivateContainerd(PrivateContainerdBuilder options) {
        tempDir = TempDirs.createShort("kt");
        root = tempDir.resolve("root");
        state = tempDir.resolve("state");
        grpcSocket = tempDir.resolve("c.sock");
        ttrpcSocket = tempDir.resolve("c.sock.ttrpc");
        logFile = tempDir.resolve("containerd.log");
        namespace = "kt-" + randomHex(4);
        commandTimeout = options.commandTimeout;
        this.options = options;
        ctr = new CtrCommandLine(grpcSocket, namespace, tempDir.resolve("fifo"));
        shutdownHook = new Thread(this::closeQuietly, "close " + tempDir);
        Runtime.getRuntime().addShutdownHook(shutdownHook);
        try {
            writeConfig();
            launch();
        } catch (RuntimeException | Error e) {
            closeQuietly();
            throw e;
        }
    }

    private Path configFile() {
        return tempDir.resolve("config.toml");
    }

    private void writeConfig() {
        ContainerdConfig config = new ContainerdConfig(root, state, grpcSocket, ttrpcSocket, tempDir.resolve("opt"),
                options.criEnabled, options.criSettings, options.logLevel, options.extraToml);
        try {
            Files.createDirectories(tempDir.resolve("fifo"));
            Files.writeString(configFile(), config.toToml());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void launch() {
        ProcessBuilder builder = new ProcessBuilder(options.containerdBinary.toString(), "--config", configFile().toString())
                .directory(tempDir.toFile())
                .redirectErrorStream(true)
                // appended: a restarted containerd's log follows the first one's
                .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
        Map<String, String> environment = builder.environment();
        // Our shim keeps its sandbox directories here instead of /run/vc/sbs: private, and swept by close().
        environment.put("KATA_SHIM_SANDBOX_ROOT", tempDir.resolve("sbs").toString());
        // and the console logs it keeps of sandboxes that failed or died: not in the host's /run
        environment.put("KATA_SHIM_KEPT_LOGS", keptConsoleLogs().toString());
        environment.putAll(options.environment);
        if (!options.pathPrefix.isEmpty()) {
            String prefix = options.pathPrefix.stream().map(Path::toString).collect(Collectors.joining(":"));
            environment.put("PATH", prefix + ":" + environment.getOrDefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"));
        }
        try {
            containerd = builder.start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + options.containerdBinary, e);
        }
        awaitReady(options.startTimeout);
    }

    /** The grpc socket file appears before the services are registered; a successful {@code ctr version} is the real signal. */
    private void awaitReady(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        CommandResult last = null;
        while (System.nanoTime() < deadline) {
            if (!containerd.isAlive()) {
                throw new IllegalStateException("containerd in " + tempDir + " exited with " + containerd.exitValue()
                        + " before answering; its log:\n" + log());
            }
            if (Files.exists(grpcSocket)) {
                last = ExternalCommand.run(List.of("ctr", "--address", grpcSocket.toString(), "version"),
                        Duration.ofSeconds(5));
                if (last.succeeded()) {
                    return;
                }
            }
            sleep(Duration.ofMillis(20));
        }
        throw new IllegalStateException("containerd in " + tempDir + " did not answer on " + grpcSocket + " within " + timeout
                + (last == null ? " (no socket)" : "; last ctr version: " + last) + "\nits log:\n" + log());
    }

    /**
     * Stops containerd as a service manager would (SIGTERM; its shims and their tasks keep running)
     * and starts it again with the same configuration, as {@code systemctl restart containerd} does;
     * returns once it answers again.
     */
    public void restart() throws InterruptedException {
        if (closed.get()) {
            throw new IllegalStateException("containerd in " + tempDir + " is closed");
        }
        if (!Processes.stop(containerd, STOP_GRACE)) {
            throw new IllegalStateException("containerd in " + tempDir + " did not stop on SIGTERM within " + STOP_GRACE);
        }
        launch();
    }

    /** The pid of the containerd now running (it changes with {@link #restart}). */
    public long pid() {
        return containerd.pid();
    }

    /** Runs {@code ctr --address <grpc> --namespace <ns> args...} with empty stdin. */
    public CommandResult ctr(String... args) {
        return ctrWithInput(new byte[0], commandTimeout, args);
    }

    /** Like {@link #ctr}, feeding {@code stdin}; throws {@link CommandTimedOutException} after killing ctr's tree. */
    public CommandResult ctrWithInput(byte[] stdin, Duration timeout, String... args) {
        return ExternalCommand.run(ctr.of(args), ctrEnvironment(), stdin, timeout);
    }

    /** {@code ctr} in another namespace of this containerd (the CRI plugin's is {@code k8s.io}). */
    public CommandResult ctrInNamespace(String otherNamespace, Duration timeout, String... args) {
        CtrCommandLine other = new CtrCommandLine(grpcSocket, otherNamespace, tempDir.resolve("fifo"));
        return ExternalCommand.run(other.of(args), ctrEnvironment(), new byte[0], timeout);
    }

    /** Starts {@code ctr ... args} and leaves it running (e.g. {@code ctr events}), its stdin open. */
    public BackgroundCommand ctrInBackground(String... args) {
        return BackgroundCommand.start(ctrCommandLine(args), ctrEnvironment());
    }

    /** The argv of {@code ctr ... args} against this containerd, for a command that wraps it (e.g. in a terminal). */
    public List<String> ctrCommandLine(String... args) {
        return ctr.of(args);
    }

    /** The environment ctr runs with: nothing from the host's containerd settings. */
    public static Map<String, String> ctrEnvironment() {
        Map<String, String> environment = new LinkedHashMap<>();
        // Our flags win anyway; unset these so nothing looks as if it came from the host's settings.
        environment.put("CONTAINERD_ADDRESS", null);
        environment.put("CONTAINERD_NAMESPACE", null);
        return environment;
    }

    /** A container id that no other run can have used: prefix plus random hex. */
    public String uniqueId(String prefix) {
        return prefix + "-" + randomHex(4);
    }

    /** The socket a shim started by this containerd for container (or group) {@code id} listens on. */
    public Path shimSocket(String id) {
        return ShimSockets.pathFor(grpcSocket, namespace, id);
    }

    public Path grpcAddress() {
        return grpcSocket;
    }

    public Path ttrpcAddress() {
        return ttrpcSocket;
    }

    public String namespace() {
        return namespace;
    }

    public Path root() {
        return root;
    }

    public Path state() {
        return state;
    }

    public Path logFile() {
        return logFile;
    }

    /** Where our shim keeps the console logs of sandboxes that failed to boot or died on their own. */
    public Path keptConsoleLogs() {
        return tempDir.resolve("kept-console-logs");
    }

    /** The whole private directory (root, state, sockets, config, log); gone after close. */
    public Path directory() {
        return tempDir;
    }

    /** containerd's log so far, for failure messages. */
    public String log() {
        try {
            return Files.exists(logFile) ? Files.readString(logFile) : "(no log file)";
        } catch (IOException e) {
            return "(log unreadable: " + e + ")";
        }
    }

    /**
     * Removes tasks and containers through containerd, stops it, then sweeps up what a crash could leave:
     * shims and their children, runc state, cgroups, shim sockets, mounts, the temp dir.
     *
     * @throws IllegalStateException listing whatever could not be cleaned up
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        List<String> problems = new ArrayList<>();
        try {
            removeTasksAndContainers();
            stopContainerd();
        } catch (RuntimeException e) {
            problems.add("graceful shutdown: " + e);
        } finally {
            problems.addAll(new ContainerdLeftovers(tempDir, grpcSocket, namespace, state).sweep());
            removeShutdownHook();
        }
        if (!problems.isEmpty()) {
            throw new IllegalStateException("private containerd in " + tempDir + " left things behind:\n  "
                    + String.join("\n  ", problems));
        }
    }

    private void closeQuietly() {
        try {
            close();
        } catch (RuntimeException e) {
            System.err.println(e.getMessage());
        }
    }

    /** Errors are expected here (a task already gone, containerd dead): the sweep that follows catches the rest. */
    private void removeTasksAndContainers() {
        if (containerd == null || !containerd.isAlive()) {
            return;
        }
        for (String task : listQuietly("task", "ls", "-q")) {
            cleanupCtr("task", "kill", "-s", "KILL", task);
            cleanupCtr("task", "rm", "-f", task);
        }
        for (String container : listQuietly("container", "ls", "-q")) {
            cleanupCtr("container", "rm", container);
        }
    }

    private List<String> listQuietly(String... args) {
        CommandResult result = cleanupCtr(args);
        return result.succeeded() ? result.stdout().lines().map(String::strip).filter(s -> !s.isEmpty()).toList()
                : List.of();
    }

    private CommandResult cleanupCtr(String... args) {
        try {
            return ctrWithInput(new byte[0], CLEANUP_COMMAND_TIMEOUT, args);
        } catch (CommandTimedOutException e) {
            return e.partialResult();
        }
    }

    private void stopContainerd() {
        if (containerd == null) {
            return;
        }
        try {
            Processes.stop(containerd, STOP_GRACE);
        } catch (InterruptedException e) {
            containerd.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    private void removeShutdownHook() {
        if (Thread.currentThread() == shutdownHook) {
            return;
        }
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException shuttingDown) {
            // The JVM is already exiting; the hook will find us closed.
        }
    }

    private static String randomHex(int bytes) {
        byte[] random = new byte[bytes];
        RANDOM.nextBytes(random);
        return HexFormat.of().formatHex(random);
    }

    private static void sleep(Duration duration) {
        try {
            Thread.sleep(duration);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
