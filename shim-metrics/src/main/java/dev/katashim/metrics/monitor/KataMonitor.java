package dev.katashim.metrics.monitor;

import dev.katashim.metrics.LatencyHistogram;
import dev.katashim.metrics.expo.ExpositionFormat;
import dev.katashim.metrics.expo.FamilyMerger;
import dev.katashim.metrics.expo.MetricFamily;
import dev.katashim.metrics.expo.MetricType;
import dev.katashim.metrics.expo.Sample;
import dev.katashim.metrics.server.HttpAnswer;
import dev.katashim.metrics.server.HttpClient;
import dev.katashim.metrics.server.HttpRequestLine;
import dev.katashim.metrics.server.HttpService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.LongAdder;

/**
 * The node-level aggregator (upstream: kata-monitor). One HTTP listener (127.0.0.1:8090 by default):
 * <ul>
 *   <li>{@code GET /metrics}: scrapes every sandbox the {@link SandboxWatcher} knows (those whose
 *       management socket is under one of the sandbox roots) concurrently, each bounded by the
 *       per-sandbox scrape timeout, adds {@code sandbox_id} (and {@code cri_uid}, {@code cri_name},
 *       {@code cri_namespace} where containerd's CRI left them in the bundle) to every sample, and
 *       cAdvisor's {@code container}, {@code pod}, {@code namespace} to CRI pods' per-container
 *       samples ({@link KubernetesLabels}), and
 *       serves each family once with all sandboxes' samples, after its own {@code kata_monitor_*}
 *       families; gzip-compressed when the client asks (Accept-Encoding). A sandbox that does not
 *       answer is left out and counted in {@code kata_monitor_scrape_failed_count} and, by reason, in
 *       {@code kata_monitor_scrape_failures_total}; it never holds up the others.</li>
 *   <li>{@code GET /sandboxes}: the sandbox ids, one a line.</li>
 *   <li>{@code GET /agent-url?sandbox=<id>}: that sandbox's {@code /agent-url}.</li>
 * </ul>
 */
public final class KataMonitor implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(KataMonitor.class);

    public static final String RUNNING = "kata_monitor_running_shim_count";
    public static final String SCRAPES = "kata_monitor_scrape_count";
    public static final String FAILED = "kata_monitor_scrape_failed_count";
    public static final String DURATIONS = "kata_monitor_scrape_durations_histogram_milliseconds";
    public static final String FAILURES = "kata_monitor_scrape_failures_total";
    public static final String SANDBOX_DURATION = "kata_monitor_sandbox_scrape_duration_seconds";

    /**
     * @param listen          where to serve (loopback by default: the metrics say what runs on the node)
     * @param roots           the sandbox roots to watch (they need not exist yet)
     * @param containerdState containerd's state directory, for the CRI annotations of a sandbox's bundle
     * @param scrapeTimeout   how long one sandbox may take to answer
     */
    public record Options(InetSocketAddress listen, List<Path> roots, Path containerdState, Duration scrapeTimeout) {
        public Options {
            roots = List.copyOf(roots);
        }

        /** One root only. */
        public Options(InetSocketAddress listen, SandboxRoot root, Path containerdState, Duration scrapeTimeout) {
            this(listen, List.of(root.path()), containerdState, scrapeTimeout);
        }

        public static Options defaults() {
            return new Options(new InetSocketAddress("127.0.0.1", 8090), SandboxWatcher.defaultRoots(),
                    CriMetadata.DEFAULT_CONTAINERD_STATE, Duration.ofSeconds(3));
        }
    }

    private final Options options;
    private final CriMetadata cri;
    private final KubernetesLabels kubernetes;
    private final SandboxWatcher watcher;
    private final HttpService http;
    private final LongAdder scrapes = new LongAdder();
    private final LongAdder failed = new LongAdder();
    private final Map<ScrapeFailure.Reason, LongAdder> failures = new java.util.EnumMap<>(ScrapeFailure.Reason.class);
    private final LatencyHistogram durations = new LatencyHistogram(DURATIONS, "Time used to scrape from shims");
    private final Map<String, Double> sandboxSeconds = new ConcurrentHashMap<>();
    private volatile int running;
    private final Map<String, String> lastFailure = new ConcurrentHashMap<>();

    private KataMonitor(Options options, SandboxWatcher watcher) throws IOException {
        this.options = options;
        this.cri = new CriMetadata(options.containerdState());
        this.kubernetes = new KubernetesLabels(options.containerdState());
        this.watcher = watcher;
        for (ScrapeFailure.Reason reason : ScrapeFailure.Reason.values()) {
            failures.put(reason, new LongAdder());
        }
        this.http = HttpService.tcp(options.listen(), "kata-monitor", this::answer, true);
    }

    public static KataMonitor start(Options options) throws IOException {
        SandboxWatcher watcher = SandboxWatcher.start(options.roots());
        KataMonitor monitor;
        try {
            monitor = new KataMonitor(options, watcher);
        } catch (IOException | RuntimeException e) {
            watcher.close();
            throw e;
        }
        log.info("kata-monitor on http://{}:{}/metrics for the sandboxes under {}", monitor.address().getHostString(),
                monitor.address().getPort(), options.roots());
        return monitor;
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) http.localAddress();
    }

    private HttpAnswer answer(HttpRequestLine request) throws IOException {
        if (!List.of("/metrics", "/sandboxes", "/agent-url").contains(request.path())) {
            return HttpAnswer.notFound(request.path());
        }
        if (!request.method().equals("GET")) {
            return HttpAnswer.methodNotAllowed(request.method(), "GET");
        }
        switch (request.path()) {
            case "/metrics" -> {
                ExpositionFormat format = ExpositionFormat.negotiate(request.accept());
                return HttpAnswer.of(200, format.contentType(), format.write(aggregate()));
            }
            case "/sandboxes" -> {
                StringBuilder out = new StringBuilder();
                watcher.sandboxes().forEach(id -> out.append(id).append('\n'));
                return HttpAnswer.text(200, out.toString());
            }
            default -> {
                String id;
                try {
                    id = request.parameter("sandbox");
                } catch (IllegalArgumentException e) {
                    return HttpAnswer.text(400, "malformed query " + request.query() + ": " + e.getMessage() + "\n");
                }
                if (id == null || id.isEmpty()) {
                    return HttpAnswer.text(400, "which sandbox? /agent-url?sandbox=<id>\n");
                }
                if (id.contains("/") || id.equals(".") || id.equals("..") || id.chars().anyMatch(c -> c < 0x20)) {
                    return HttpAnswer.text(400, "not a sandbox id: '" + id + "'\n");
                }
                java.util.Optional<Path> socket = watcher.socket(id);
                if (socket.isEmpty()) {
                    return HttpAnswer.text(404, "no sandbox " + id + " under " + options.roots() + "\n");
                }
                try {
                    HttpClient.Response r = HttpClient.getBlocking(socket.get(), "/agent-url", null, options.scrapeTimeout());
                    return HttpAnswer.text(r.status() == 200 ? 200 : 502, r.body());
                } catch (IllegalArgumentException e) {
                    return HttpAnswer.text(400, e.getMessage() + "\n");
                } catch (IOException e) {
                    return HttpAnswer.text(502, "sandbox " + id + ": " + e.getMessage() + "\n");
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return HttpAnswer.text(503, "interrupted\n");
                }
            }
        }
    }

    /** Scrapes every sandbox now and returns the monitor's families followed by the merged ones. */
    public List<MetricFamily> aggregate() throws IOException {
        long start = System.nanoTime();
        scrapes.increment();
        List<String> ids = watcher.sandboxes();
        running = ids.size();
        cri.retain(ids);
        lastFailure.keySet().retainAll(ids);
        sandboxSeconds.keySet().retainAll(ids);
        Map<String, CompletableFuture<List<MetricFamily>>> pending = new LinkedHashMap<>();
        Map<String, java.util.Optional<CriMetadata.Pod>> pods = new HashMap<>();
        for (String id : ids) {
            java.util.Optional<Path> socket = watcher.socket(id);
            if (socket.isEmpty()) {
                continue; // gone since the listing
            }
            Map<String, String> labels = new LinkedHashMap<>();
            labels.put("sandbox_id", id);
            pods.put(id, cri.lookup(id));
            pods.get(id).ifPresent(pod -> labels.putAll(pod.labels()));
            long begun = System.nanoTime();
            pending.put(id, SandboxScraper.scrape(socket.get(), labels, options.scrapeTimeout())
                    .whenComplete((families, error) -> sandboxSeconds.put(id, (System.nanoTime() - begun) / 1e9)));
        }
        FamilyMerger merger = new FamilyMerger();
        Set<String> containers = new HashSet<>();
        long deadline = System.nanoTime() + options.scrapeTimeout().toNanos() + TimeUnit.SECONDS.toNanos(1);
        for (Map.Entry<String, CompletableFuture<List<MetricFamily>>> e : pending.entrySet()) {
            try {
                List<MetricFamily> families = e.getValue().get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                // here, not on the connection's event loop: the first sight of a container reads its bundle
                merger.add(e.getKey(), kubernetes.add(families, pods.get(e.getKey()), containers));
                lastFailure.remove(e.getKey());
            } catch (ExecutionException | TimeoutException failure) {
                e.getValue().cancel(true);
                Throwable cause = failure instanceof ExecutionException ? failure.getCause() : failure;
                sandboxFailed(e.getKey(), cause instanceof java.util.concurrent.CompletionException c && c.getCause() != null
                        ? c.getCause() : cause);
            } catch (InterruptedException interrupted) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while scraping the sandboxes", interrupted);
            }
        }
        kubernetes.retain(containers);
        durations.observe("", System.nanoTime() - start);
        List<MetricFamily> all = new ArrayList<>(ownFamilies());
        java.util.Set<String> own = new java.util.HashSet<>();
        all.forEach(f -> own.add(f.name()));
        for (MetricFamily f : merger.families()) {
            if (own.contains(f.name())) {
                log.warn("a sandbox serves {}, a name of the monitor's own: left out", f.name());
                continue;
            }
            all.add(f);
        }
        return all;
    }

    private void sandboxFailed(String id, Throwable cause) {
        failed.increment();
        failures.get(ScrapeFailure.Reason.of(cause)).increment();
        String reason = String.valueOf(cause.getMessage());
        if (!reason.equals(lastFailure.put(id, reason))) {
            log.warn("sandbox {} left out of this scrape: {}", id, reason);
        }
    }

    private List<MetricFamily> ownFamilies() {
        List<Sample> byReason = new ArrayList<>();
        failures.forEach((reason, n) -> byReason.add(Sample.of(FAILURES, n.sum(), "reason", reason.label())));
        List<Sample> perSandbox = new ArrayList<>();
        new java.util.TreeMap<>(sandboxSeconds).forEach((id, seconds) -> perSandbox.add(Sample.of(SANDBOX_DURATION, seconds, "sandbox_id", id)));
        return List.of(
                new MetricFamily(RUNNING, MetricType.GAUGE, "Running shim count(running sandboxes).", List.of(Sample.of(RUNNING, running))),
                new MetricFamily(SCRAPES, MetricType.COUNTER, "Scrape count.", List.of(Sample.of(SCRAPES, scrapes.sum()))),
                new MetricFamily(FAILED, MetricType.COUNTER, "Sandbox scrapes that failed (no answer in time, or not 200): those sandboxes were left out.",
                        List.of(Sample.of(FAILED, failed.sum()))),
                new MetricFamily(FAILURES, MetricType.COUNTER,
                        "Sandbox scrapes that failed, by reason: no_answer (no socket listening, or the connection closed), timeout, bad_answer (not 200).",
                        byReason),
                new MetricFamily(SANDBOX_DURATION, MetricType.GAUGE, "How long the last scrape of each sandbox took, in seconds.", "seconds",
                        perSandbox),
                durations.family());
    }

    @Override
    public void close() {
        http.close(Duration.ofSeconds(1));
        watcher.close();
    }

    public static void main(String[] args) {
        Options options;
        try {
            options = parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("kata-shim-monitor: " + e.getMessage());
            System.err.println(USAGE);
            System.exit(2);
            return;
        }
        if (options == null) {
            System.out.println(USAGE);
            return;
        }
        try {
            KataMonitor monitor = start(options);
            Runtime.getRuntime().addShutdownHook(new Thread(monitor::close, "kata-monitor-stop"));
            Thread.currentThread().join();
        } catch (IOException e) {
            System.err.println("kata-shim-monitor: " + e.getMessage());
            System.exit(1);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static final String USAGE = """
            usage: kata-shim-monitor [--listen-address HOST:PORT] [--sandbox-root DIR]... [--containerd-state DIR] [--timeout DURATION]
              --listen-address    where to serve /metrics (default 127.0.0.1:8090)
              --sandbox-root      a sandboxes' directory to watch, may be repeated (default: $KATA_SHIM_SANDBOX_ROOT or
                                  /run/vc/sbs, and /run/kata)
              --containerd-state  containerd's state directory, for CRI pod labels (default /run/containerd)
              --timeout           how long one sandbox may take to answer (default 3s; e.g. 500ms, 2s)""";

    /** The options of {@code args}, or null when help was asked for. */
    static Options parse(String[] args) {
        Options d = Options.defaults();
        InetSocketAddress listen = d.listen();
        List<Path> roots = new ArrayList<>();
        Path state = d.containerdState();
        Duration timeout = d.scrapeTimeout();
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (arg.equals("-h") || arg.equals("--help")) {
                return null;
            }
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException(arg.startsWith("-") ? arg + " needs a value" : "unexpected argument " + arg);
            }
            String value = args[++i];
            switch (arg) {
                case "--listen-address", "--listen" -> listen = address(value);
                case "--sandbox-root" -> roots.add(Path.of(value));
                case "--containerd-state" -> state = Path.of(value);
                case "--timeout" -> timeout = duration(value);
                default -> throw new IllegalArgumentException("unknown option " + arg);
            }
        }
        return new Options(listen, roots.isEmpty() ? d.roots() : roots, state, timeout);
    }

    static InetSocketAddress address(String value) {
        int colon = value.lastIndexOf(':');
        if (colon < 0) {
            throw new IllegalArgumentException("not HOST:PORT: " + value);
        }
        String host = value.substring(0, colon);
        try {
            return new InetSocketAddress(host.isEmpty() ? "127.0.0.1" : host.replaceAll("^\\[|]$", ""),
                    Integer.parseInt(value.substring(colon + 1)));
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("not HOST:PORT: " + value);
        }
    }

    /** "3s", "500ms", "1m", or an ISO-8601 duration. */
    public static Duration duration(String value) {
        Duration parsed = parseDuration(value);
        if (parsed.isNegative() || parsed.isZero()) {
            throw new IllegalArgumentException("not a positive duration: " + value);
        }
        return parsed;
    }

    private static Duration parseDuration(String value) {
        try {
            if (value.endsWith("ms")) {
                return Duration.ofMillis(Long.parseLong(value.substring(0, value.length() - 2)));
            }
            if (value.endsWith("s")) {
                return Duration.ofMillis((long) (Double.parseDouble(value.substring(0, value.length() - 1)) * 1000));
            }
            if (value.endsWith("m")) {
                return Duration.ofSeconds(Long.parseLong(value.substring(0, value.length() - 1)) * 60);
            }
            return Duration.parse(value);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("not a duration: " + value + " (e.g. 500ms, 3s)");
        }
    }
}
