package dev.katashim.metrics.server;

import dev.katashim.metrics.SandboxMetrics;
import dev.katashim.metrics.expo.ExpositionFormat;
import dev.katashim.sys.UnixSocketFile;
import io.netty.channel.unix.DomainSocketAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.nio.charset.StandardCharsets;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * A sandbox's management endpoint: HTTP/1.1 on the unix socket
 * {@code <sandbox dir>/shim-monitor.sock} (mode 0600), where upstream's tools look for it.
 * <ul>
 *   <li>{@code GET /metrics}: {@link SandboxMetrics#scrape()} as text format 0.0.4, or OpenMetrics
 *       1.0 when the Accept header asks for {@code application/openmetrics-text};</li>
 *   <li>{@code GET /agent-url}: the agent's address as text (500 with the reason if unknown);</li>
 *   <li>404 for any other path, 405 (with {@code Allow: GET}) for another method.</li>
 * </ul>
 * One answer per format is rendered at a time, shared by the scrapes that arrive meanwhile
 * ({@link SharedRendering}: a storm of scrapes costs the shim at most a tenth of a CPU for
 * rendering, and at most eight answers sent per rendering, five renderings a second); at most
 * {@code maxConcurrentScrapes} are answered at once (more: 503 at once), each waits up to
 * {@code scrapeQueueTimeout} for its rendering (then 503). After {@link #close()} begins, requests get 503; the
 * scrapes already running finish (they never wait for the agent, whose part is fetched in the background).
 */
public final class ManagementServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ManagementServer.class);
    public static final String SOCKET_NAME = "shim-monitor.sock";
    /** How long running scrapes get to finish after {@link #close()}. */
    static final Duration DRAIN = Duration.ofSeconds(2);

    /**
     * Limits: {@code maxConcurrentScrapes} scrapes answered at once (rendering, or waiting for a
     * shared rendering, see {@link SharedRendering}), more get 503 at once; {@code scrapeQueueTimeout}:
     * how long one waits for its rendering before it gets 503. {@link #DEFAULTS}: 128, 10 s.
     */
    public record Options(int maxConcurrentScrapes, Duration scrapeQueueTimeout) {
        public static final Options DEFAULTS = new Options(128, Duration.ofSeconds(10));
    }

    private final Path socket;
    private final HttpService http;

    private ManagementServer(Path socket, HttpService http) {
        this.socket = socket;
        this.http = http;
    }

    /** Serves {@code metrics} at {@code <sandboxDir>/shim-monitor.sock}, with the default limits. */
    public static ManagementServer start(Path sandboxDir, SandboxMetrics metrics, Supplier<String> agentUrl) throws IOException {
        return start(sandboxDir, metrics, agentUrl, Options.DEFAULTS);
    }

    /** Serves {@code metrics} at {@code <sandboxDir>/shim-monitor.sock}; {@code agentUrl} answers /agent-url. */
    public static ManagementServer start(Path sandboxDir, SandboxMetrics metrics, Supplier<String> agentUrl, Options options)
            throws IOException {
        return startOnSocket(sandboxDir.resolve(SOCKET_NAME), metrics, agentUrl, options);
    }

    /** Serves {@code metrics} on the unix socket {@code socket} (its directory must exist), for another layout. */
    public static ManagementServer startOnSocket(Path socket, SandboxMetrics metrics, Supplier<String> agentUrl, Options options)
            throws IOException {
        if (!Files.isDirectory(socket.getParent())) {
            throw new IOException("no directory for the management socket: " + socket.getParent());
        }
        UnixSocketFile.prepareBind(socket);
        Semaphore scrapes = new Semaphore(options.maxConcurrentScrapes());
        Map<ExpositionFormat, SharedRendering> renderings = new EnumMap<>(ExpositionFormat.class);
        for (ExpositionFormat format : ExpositionFormat.values()) {
            renderings.put(format, new SharedRendering(() -> format.write(metrics.scrape()).getBytes(StandardCharsets.UTF_8)));
        }
        HttpService http = HttpService.unix(new DomainSocketAddress(socket.toString()), "shim-monitor",
                request -> answer(request, renderings, agentUrl, scrapes, options));
        try {
            UnixSocketFile.restrictToOwner(socket);
        } catch (IOException e) {
            http.close(Duration.ZERO);
            Files.deleteIfExists(socket);
            throw e;
        }
        log.info("management server on {}", socket);
        return new ManagementServer(socket, http);
    }

    private static HttpAnswer answer(HttpRequestLine request, Map<ExpositionFormat, SharedRendering> renderings,
                                     Supplier<String> agentUrl, Semaphore scrapes, Options options) throws InterruptedException {
        switch (request.path()) {
            case "/metrics" -> {
                if (!request.method().equals("GET")) {
                    return HttpAnswer.methodNotAllowed(request.method(), "GET");
                }
                if (!scrapes.tryAcquire()) {
                    return HttpAnswer.text(503, "too many scrapes at once; try again\n");
                }
                try {
                    ExpositionFormat format = ExpositionFormat.negotiate(request.accept());
                    CompletableFuture<byte[]> rendered = renderings.get(format).request();
                    try {
                        byte[] body = rendered.get(options.scrapeQueueTimeout().toNanos(), TimeUnit.NANOSECONDS);
                        return new HttpAnswer(200, format.contentType(), body, null);
                    } finally {
                        rendered.cancel(false); // leaves the queue when it gave up (or the connection went)
                    }
                } catch (TimeoutException e) {
                    return HttpAnswer.text(503, "no answer rendered within " + options.scrapeQueueTimeout().toMillis() + " ms; try again\n");
                } catch (ExecutionException e) {
                    log.warn("rendering /metrics failed", e.getCause());
                    return HttpAnswer.text(500, "cannot render the metrics: " + e.getCause() + "\n");
                } finally {
                    scrapes.release();
                }
            }
            case "/agent-url" -> {
                if (!request.method().equals("GET")) {
                    return HttpAnswer.methodNotAllowed(request.method(), "GET");
                }
                try {
                    String url = agentUrl.get();
                    if (url == null || url.isEmpty()) {
                        return HttpAnswer.text(500, "the agent's address is not known yet\n");
                    }
                    return HttpAnswer.text(200, url);
                } catch (RuntimeException e) {
                    return HttpAnswer.text(500, "cannot tell the agent's address: " + e.getMessage() + "\n");
                }
            }
            default -> {
                return HttpAnswer.notFound(request.path());
            }
        }
    }

    public Path socket() {
        return socket;
    }

    /** Requests being answered now. */
    public int inFlight() {
        return http.inFlight();
    }

    /**
     * Stops serving: from now on requests get 503; scrapes already running get up to
     * {@link #DRAIN} to finish (they wait for nobody: the agent's part is fetched in the background);
     * then the socket file and every connection are gone.
     */
    @Override
    public void close() {
        http.close(DRAIN);
        try {
            Files.deleteIfExists(socket);
        } catch (IOException e) {
            log.debug("cannot remove {}: {}", socket, e.getMessage());
        }
    }
}
