package dev.katashim.vmm.qmp;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * A QMP (QEMU Machine Protocol) client on a unix socket: JSON objects in both directions.
 * {@link #connect} reads the greeting and negotiates capabilities; each command carries an
 * {@code id} that its reply echoes, so commands may be in flight concurrently; each has a timeout.
 * A virtual thread reads the socket; events go to listeners in order on one other virtual thread,
 * so a listener may itself send commands.
 */
public final class QmpClient implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(QmpClient.class);
    /** The longest string and the deepest nesting QMP may send: its replies and events are small, and QEMU may be the guest's. */
    static final int MAX_STRING = 1 << 20;
    static final int MAX_DEPTH = 64;
    private static final ObjectMapper JSON = new ObjectMapper(com.fasterxml.jackson.core.JsonFactory.builder()
            .streamReadConstraints(com.fasterxml.jackson.core.StreamReadConstraints.builder()
                    .maxStringLength(MAX_STRING).maxNestingDepth(MAX_DEPTH).build()).build());
    /** The timeout of commands sent without one. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(5);

    private final Path socket;
    private final SocketChannel channel;
    private final Object writeLock = new Object();
    private final AtomicLong ids = new AtomicLong();
    private final Map<Long, Pending> pending = new ConcurrentHashMap<>();
    private final List<Consumer<QmpEvent>> listeners = new CopyOnWriteArrayList<>();
    private final ExecutorService eventDispatch = Executors.newSingleThreadExecutor(Thread.ofVirtual().name("qmp-events").factory());
    private final CompletableFuture<QmpGreeting> greeting = new CompletableFuture<>();
    private final CompletableFuture<Void> closed = new CompletableFuture<>();

    private record Pending(String command, CompletableFuture<JsonNode> reply) {
    }

    private QmpClient(Path socket, SocketChannel channel) {
        this.socket = socket;
        this.channel = channel;
    }

    /**
     * Connects to the QMP server at {@code socket}, waits up to {@code timeout} for its greeting,
     * and sends {@code qmp_capabilities}, leaving the connection in command mode.
     */
    public static QmpClient connect(Path socket, Duration timeout) throws IOException {
        return connect(socket, timeout, null);
    }

    /** As {@link #connect(Path, Duration)}, with {@code listener} receiving every event from the first on (may be null). */
    public static QmpClient connect(Path socket, Duration timeout, Consumer<QmpEvent> listener) throws IOException {
        SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            channel.connect(UnixDomainSocketAddress.of(socket));
        } catch (IOException e) {
            channel.close();
            throw new IOException("cannot connect to QMP socket " + socket + ": " + e.getMessage(), e);
        }
        QmpClient client = new QmpClient(socket, channel);
        if (listener != null) {
            client.addEventListener(listener);
        }
        client.startReader();
        try {
            client.awaitGreeting(timeout);
            client.execute("qmp_capabilities", Map.of(), timeout);
        } catch (IOException | RuntimeException e) {
            client.close();
            throw e;
        }
        return client;
    }

    public Path socket() {
        return socket;
    }

    /** The server's greeting (QEMU version); available once {@link #connect} returned. */
    public QmpGreeting greeting() {
        return greeting.join();
    }

    /** Completes when the connection is closed, by either side. */
    public CompletableFuture<Void> closed() {
        return closed;
    }

    /** Delivers every later event to {@code listener}, in order, on the event thread. Listeners must not block for long. */
    public void addEventListener(Consumer<QmpEvent> listener) {
        listeners.add(listener);
    }

    public void removeEventListener(Consumer<QmpEvent> listener) {
        listeners.remove(listener);
    }

    public JsonNode execute(String command) throws IOException {
        return execute(command, Map.of(), DEFAULT_TIMEOUT);
    }

    /** Sends {@code command} with {@code arguments} and returns its {@code return} value. */
    public JsonNode execute(String command, Map<String, ?> arguments, Duration timeout) throws IOException {
        long id = ids.incrementAndGet();
        ObjectNode message = JSON.createObjectNode();
        message.put("execute", command);
        if (!arguments.isEmpty()) {
            message.set("arguments", JSON.valueToTree(arguments));
        }
        message.put("id", id);
        CompletableFuture<JsonNode> reply = new CompletableFuture<>();
        pending.put(id, new Pending(command, reply));
        try {
            if (closed.isDone()) {
                throw new QmpException.ConnectionClosed(command, socket, null);
            }
            write(message, command);
            return reply.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            throw new QmpException.Timeout(command, socket, timeout);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            throw new IOException("QMP command '" + command + "' on " + socket + " failed", e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted waiting for QMP command '" + command + "' on " + socket);
        } finally {
            pending.remove(id);
        }
    }

    /** {@code query-status}. */
    public VmStatus queryStatus() throws IOException {
        JsonNode r = execute("query-status");
        return new VmStatus(r.path("status").asText(), r.path("running").asBoolean());
    }

    /** {@code query-cpus-fast}: the vCPUs, with the QOM paths that {@code query-stats} uses. */
    public List<CpuInfo> queryCpusFast() throws IOException {
        List<CpuInfo> cpus = new ArrayList<>();
        for (JsonNode cpu : execute("query-cpus-fast")) {
            cpus.add(new CpuInfo(cpu.path("cpu-index").asInt(), cpu.path("qom-path").asText(), cpu.path("thread-id").asLong()));
        }
        return cpus;
    }

    /**
     * {@code query-stats} with target {@code vcpu}: each vCPU's scalar counters, per provider.
     * Empty when no accelerator provides statistics (TCG).
     */
    public List<VcpuStats> queryVcpuStats() throws IOException {
        List<VcpuStats> result = new ArrayList<>();
        for (JsonNode entry : execute("query-stats", Map.of("target", "vcpu"), DEFAULT_TIMEOUT)) {
            Map<String, Long> counters = new java.util.LinkedHashMap<>();
            for (JsonNode stat : entry.path("stats")) {
                JsonNode value = stat.path("value");
                if (value.isIntegralNumber()) {
                    counters.put(stat.path("name").asText(), value.asLong());
                }
            }
            result.add(new VcpuStats(entry.path("qom-path").asText(), entry.path("provider").asText(), counters));
        }
        return result;
    }

    /**
     * {@code quit}: QEMU exits at once. Its reply may race with the connection closing, so a
     * closed connection counts as success.
     */
    public void quit(Duration timeout) throws IOException {
        try {
            execute("quit", Map.of(), timeout);
        } catch (QmpException.ConnectionClosed e) {
            log.debug("QMP {}: connection closed while quitting, as QEMU exits", socket);
        }
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException e) {
            log.debug("closing QMP socket {}: {}", socket, e.toString());
        }
        failPending(null);
        eventDispatch.shutdown();
        closed.complete(null);
    }

    private void write(JsonNode message, String command) throws IOException {
        byte[] bytes;
        try {
            bytes = (JSON.writeValueAsString(message) + "\n").getBytes(StandardCharsets.UTF_8);
        } catch (JsonProcessingException e) {
            throw new IOException("cannot encode QMP command '" + command + "'", e);
        }
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        synchronized (writeLock) {
            try {
                while (buffer.hasRemaining()) {
                    channel.write(buffer);
                }
            } catch (IOException e) {
                throw new QmpException.ConnectionClosed(command, socket, e);
            }
        }
    }

    private void awaitGreeting(Duration timeout) throws IOException {
        try {
            greeting.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            throw new IOException("no QMP greeting on " + socket + " within " + timeout.toMillis() + " ms");
        } catch (ExecutionException e) {
            throw new IOException("no QMP greeting on " + socket + ": " + e.getCause().getMessage(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted waiting for the QMP greeting on " + socket);
        }
    }

    private void startReader() {
        Thread.ofVirtual().name("qmp-reader " + socket.getFileName()).start(this::readLoop);
    }

    private void readLoop() {
        Throwable failure = null;
        try (InputStream in = Channels.newInputStream(channel);
             MappingIterator<JsonNode> messages = JSON.readerFor(JsonNode.class).readValues(in)) {
            while (messages.hasNextValue()) {
                dispatch(messages.nextValue());
            }
        } catch (IOException | RuntimeException e) {
            failure = e;
        }
        if (!closed.isDone()) {
            log.debug("QMP {}: connection ended{}", socket, failure == null ? "" : ": " + failure);
        }
        greeting.completeExceptionally(new IOException("connection closed before the greeting"
                + (failure == null ? "" : ": " + failure.getMessage())));
        failPending(failure);
        try {
            channel.close();
        } catch (IOException ignored) {
            // already closing
        }
        eventDispatch.shutdown();
        closed.complete(null);
    }

    private void dispatch(JsonNode message) {
        if (message.has("QMP")) {
            JsonNode qmp = message.get("QMP");
            JsonNode v = qmp.path("version").path("qemu");
            List<String> caps = new ArrayList<>();
            qmp.path("capabilities").forEach(c -> caps.add(c.asText()));
            greeting.complete(new QmpGreeting(v.path("major").asInt(), v.path("minor").asInt(), v.path("micro").asInt(),
                    qmp.path("version").path("package").asText(), caps));
        } else if (message.has("event")) {
            QmpEvent event = QmpEvent.parse(message);
            log.debug("QMP {}: event {}", socket, event);
            eventDispatch.execute(() -> deliver(event));
        } else if (message.has("id")) {
            Pending p = pending.get(message.get("id").asLong());
            if (p == null) {
                log.debug("QMP {}: reply to a command no longer waited for: {}", socket, message);
            } else if (message.has("error")) {
                JsonNode error = message.get("error");
                p.reply().completeExceptionally(new QmpException.ErrorResponse(p.command(), socket,
                        error.path("class").asText(), error.path("desc").asText()));
            } else {
                p.reply().complete(message.path("return"));
            }
        } else {
            log.debug("QMP {}: unexpected message {}", socket, message);
        }
    }

    private void deliver(QmpEvent event) {
        for (Consumer<QmpEvent> listener : listeners) {
            try {
                listener.accept(event);
            } catch (RuntimeException e) {
                log.warn("QMP {}: event listener failed on {}", socket, event.name(), e);
            }
        }
    }

    private void failPending(Throwable cause) {
        for (Pending p : pending.values()) {
            p.reply().completeExceptionally(new QmpException.ConnectionClosed(p.command(), socket, cause));
        }
    }
}
