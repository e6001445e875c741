package dev.katashim.metrics.server;

import dev.katashim.metrics.SandboxMetrics;
import dev.katashim.metrics.ShimMetrics;
import dev.katashim.metrics.support.RawHttp;
import dev.katashim.metrics.support.StrictPrometheusText;
import dev.katashim.metrics.support.StrictPrometheusText.Family;
import dev.katashim.metrics.support.TestSandbox;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The management socket: real unix sockets, a real guest agent for the happy path. Faults the real
 * agent cannot be made to show (a malformed metrics text, an agent that never answers) come from
 * stand-in sources named as fakes.
 */
class ManagementServerTest {
    private Path root;
    private final List<AutoCloseable> open = new ArrayList<>();

    /** FAKE agent source: answers with a text a real agent never sends. */
    private static final String MALFORMED_AGENT_TEXT = """
            # HELP kata_agent_threads Agent process threads
            # TYPE kata_agent_threads gauge
            kata_agent_threads 12
            # HELP kata_guest_broken A family with a bad line.
            # TYPE kata_guest_broken gauge
            kata_guest_broken{item="a"} 1
            kata_guest_broken{item="b" 2
            # HELP kata_shim_threads The agent claims a name the shim serves.
            # TYPE kata_shim_threads gauge
            kata_shim_threads 99
            # HELP process_open_fds Renamed as upstream does.
            # TYPE process_open_fds gauge
            process_open_fds 7
            # HELP kata_guest_histogram Not cumulative.
            # TYPE kata_guest_histogram histogram
            kata_guest_histogram_bucket{le="1"} 5
            kata_guest_histogram_bucket{le="+Inf"} 3
            kata_guest_histogram_sum 1
            kata_guest_histogram_count 3
            \u0000\u0007 binary junk
            """;

    @BeforeEach
    void prepare() throws IOException {
        root = Files.createTempDirectory(Path.of("/tmp"), "ksm-mgmt");
    }

    @AfterEach
    void cleanUp() throws Exception {
        for (AutoCloseable c : open.reversed()) {
            c.close();
        }
        TestSandbox.deleteTree(root);
    }

    private TestSandbox start(TestSandbox.Builder builder) throws Exception {
        TestSandbox sandbox = builder.start();
        open.add(sandbox);
        return sandbox;
    }

    @Test
    void answersEachPathAndMethodAsItShould() throws Exception {
        TestSandbox sandbox = start(TestSandbox.in(root, "sb").realAgent());
        sandbox.scrapeWithAgent();
        HttpClient.Response metrics = sandbox.get("/metrics", null);
        assertThat(metrics.status()).isEqualTo(200);
        assertThat(metrics.contentType()).isEqualTo("text/plain; version=0.0.4; charset=utf-8");
        assertThat(StrictPrometheusText.parse(metrics.body())).containsKeys("kata_shim_threads", "kata_agent_threads");

        HttpClient.Response url = sandbox.get("/agent-url", null);
        assertThat(url.status()).isEqualTo(200);
        assertThat(url.body()).isEqualTo("unix://" + sandbox.dir.resolve("agent.sock"));

        assertThat(sandbox.get("/metrics/extra", null).status()).isEqualTo(404);
        assertThat(sandbox.get("/", null).status()).isEqualTo(404);
        assertThat(sandbox.get("/metrics?x=1", null).status()).isEqualTo(200);
        for (String method : List.of("POST", "PUT", "DELETE", "HEAD")) {
            try (RawHttp raw = RawHttp.connect(sandbox.socket())) {
                raw.send(method + " /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
                RawHttp.Response r = raw.read(Duration.ofSeconds(5), method.equals("HEAD"));
                assertThat(r.status()).as(method).isEqualTo(405);
                assertThat(r.headers()).as(method).containsEntry("allow", "GET");
            }
        }
        try (RawHttp raw = RawHttp.connect(sandbox.socket())) {
            raw.send("POST /nowhere HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
            assertThat(raw.read(Duration.ofSeconds(5)).status()).isEqualTo(404);
        }
    }

    @Test
    void agentUrlUnknownIs500() throws Exception {
        TestSandbox sandbox = start(TestSandbox.in(root, "sb"));
        HttpClient.Response r = sandbox.get("/agent-url", null);
        assertThat(r.status()).isEqualTo(500);
        assertThat(r.body()).contains("not known");
    }

    @Test
    void theSocketIsTheOwnersOnlyAndAStaleOneIsReplacedButNeverALiveOne() throws Exception {
        Path dir = Files.createDirectories(root.resolve("sb"));
        Path socket = dir.resolve(ManagementServer.SOCKET_NAME);
        // a socket file whose listener died: bind one with the JDK, then close it
        try (var listener = java.nio.channels.ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            listener.bind(UnixDomainSocketAddress.of(socket));
        }
        assertThat(socket).exists();
        TestSandbox sandbox = start(TestSandbox.in(root, "sb"));
        assertThat(Files.getPosixFilePermissions(socket)).isEqualTo(PosixFilePermissions.fromString("rw-------"));
        assertThat(sandbox.get("/metrics", null).status()).isEqualTo(200);

        SandboxMetrics other = SandboxMetrics.builder(new ShimMetrics()).build();
        assertThatThrownBy(() -> ManagementServer.startOnSocket(socket, other, () -> "x", ManagementServer.Options.DEFAULTS))
                .isInstanceOf(IOException.class).hasMessageContaining("already serving");
        Path notASocket = Files.writeString(dir.resolve("file.sock"), "data");
        assertThatThrownBy(() -> ManagementServer.startOnSocket(notASocket, other, () -> "x", ManagementServer.Options.DEFAULTS))
                .isInstanceOf(IOException.class).hasMessageContaining("not a socket");
        assertThat(Files.readString(notASocket)).isEqualTo("data");

        sandbox.server.close();
        assertThat(socket).doesNotExist();
    }

    @Test
    void aOneMebibyteRequestLineIsRefusedAtOnceAndTheServerGoesOn() throws Exception {
        TestSandbox sandbox = start(TestSandbox.in(root, "sb"));
        byte[] huge = new byte[1 << 20];
        Arrays.fill(huge, (byte) 'a');
        byte[] request = ("GET /" + new String(huge, StandardCharsets.ISO_8859_1) + " HTTP/1.1\r\nHost: x\r\n\r\n")
                .getBytes(StandardCharsets.ISO_8859_1);
        long start = System.nanoTime();
        try (RawHttp raw = RawHttp.connect(sandbox.socket())) {
            raw.sendInBackground(request);
            RawHttp.Response r = raw.read(Duration.ofSeconds(5));
            assertThat(r.status()).isEqualTo(400);
            assertThat(r.body()).contains("request line too long");
            assertThat(raw.closedWithin(Duration.ofSeconds(5))).isTrue();
        }
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
        // the same with headers that never end
        try (RawHttp raw = RawHttp.connect(sandbox.socket())) {
            byte[] header = ("GET /metrics HTTP/1.1\r\nX-Big: " + new String(huge, StandardCharsets.ISO_8859_1) + "\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1);
            raw.sendInBackground(header);
            assertThat(raw.read(Duration.ofSeconds(5)).status()).isEqualTo(431);
        }
        // and a body over the limit
        try (RawHttp raw = RawHttp.connect(sandbox.socket())) {
            raw.send("POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: " + (2 << 20) + "\r\n\r\n");
            raw.sendInBackground(new byte[2 << 20]);
            assertThat(raw.read(Duration.ofSeconds(5)).status()).isEqualTo(413);
        }
        assertThat(sandbox.get("/metrics", null).status()).isEqualTo(200);
    }

    @Test
    void aHundredConcurrentScrapesAllSucceedAndNoneCallsTheAgent() throws Exception {
        TestSandbox sandbox = start(TestSandbox.in(root, "sb").realAgent().refreshPeriod(Duration.ofSeconds(2)));
        sandbox.scrapeWhen(f -> f.containsKey("kata_agent_threads") && f.containsKey(ShimMetrics.AGENT_RPC), TestSandbox.AGENT_DEADLINE);
        double callsBefore = sandbox.scrape().get(ShimMetrics.AGENT_RPC).value("action", "grpc.GetMetricsRequest", "le", "+Inf");
        long start = System.nanoTime();
        CountDownLatch go = new CountDownLatch(1);
        List<Future<HttpClient.Response>> answers = new ArrayList<>();
        try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < 100; i++) {
                answers.add(pool.submit(() -> {
                    go.await();
                    return sandbox.get("/metrics", null);
                }));
            }
            go.countDown();
            for (Future<HttpClient.Response> answer : answers) {
                HttpClient.Response r = answer.get(60, TimeUnit.SECONDS);
                assertThat(r.status()).isEqualTo(200);
                Map<String, Family> families = StrictPrometheusText.parse(r.body());
                assertThat(families).containsKeys("kata_shim_fds", "kata_agent_threads", SandboxMetrics.AGENT_AGE);
            }
        }
        double callsAfter = sandbox.scrape().get(ShimMetrics.AGENT_RPC).value("action", "grpc.GetMetricsRequest", "le", "+Inf");
        double periods = (System.nanoTime() - start) / (double) Duration.ofSeconds(2).toNanos();
        // the agent was asked on its own schedule (one call per refresh period), not once per scrape
        assertThat(callsAfter - callsBefore).as("GetMetrics calls during 101 scrapes over %.1f periods", periods)
                .isLessThanOrEqualTo(Math.ceil(periods) + 1);
        assertThat(sandbox.server.inFlight()).isZero();
    }

    @Test
    void pipelinedRequestsAreAnsweredInOrderOnOneConnection() throws Exception {
        TestSandbox sandbox = start(TestSandbox.in(root, "sb"));
        try (RawHttp raw = RawHttp.connect(sandbox.socket())) {
            raw.send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\n\r\nGET /agent-url HTTP/1.1\r\nHost: x\r\n\r\n");
            assertThat(raw.read(Duration.ofSeconds(10)).status()).isEqualTo(200);
            assertThat(raw.read(Duration.ofSeconds(10)).status()).isEqualTo(404);
            assertThat(raw.read(Duration.ofSeconds(10)).status()).isEqualTo(500);
        }
    }

    @Test
    void aMalformedAgentTextLosesOnlyItsBadFamilies() throws Exception {
        TestSandbox sandbox = start(TestSandbox.in(root, "sb").refreshPeriod(Duration.ofHours(1)).agent(() -> MALFORMED_AGENT_TEXT));
        Map<String, Family> families = sandbox.scrapeWithAgent();
        assertThat(families).containsKeys("kata_agent_threads", "kata_agent_process_open_fds", "kata_shim_fds",
                "kata_shim_threads", SandboxMetrics.SCRAPE_COUNT);
        assertThat(families).doesNotContainKeys("kata_guest_broken", "kata_guest_histogram", "process_open_fds");
        assertThat(families.get("kata_agent_threads").value()).isEqualTo(12);
        assertThat(families.get("kata_shim_threads").value()).isNotEqualTo(99); // the shim's own, served once
        // broken family, junk line (lands in the histogram before it), not-cumulative histogram, the name clash
        assertThat(families.get(SandboxMetrics.AGENT_DROPPED).value()).isEqualTo(3);
        // counted per GetMetrics (one, this hour), not per scrape
        assertThat(sandbox.scrape().get(SandboxMetrics.AGENT_DROPPED).value()).isEqualTo(3);
    }

    @Test
    void aFourMebibyteAgentTextIsLeftOutWholeAndTheShimGoesOnServing() throws Exception {
        // FAKE: an agent that answers 4 MiB of well-formed series (ttrpc's largest message; ours writes ~40 KB)
        StringBuilder huge = new StringBuilder("# TYPE kata_guest_huge gauge\n");
        for (int i = 0; huge.length() < 4 << 20; i++) {
            huge.append("kata_guest_huge{item=\"").append(i).append("\"} ").append(i).append('\n');
        }
        String text = huge.toString();
        TestSandbox sandbox = start(TestSandbox.in(root, "sb").refreshPeriod(Duration.ofMillis(100)).agent(() -> text));
        Map<String, Family> families = sandbox.scrapeWhen(f -> f.get(SandboxMetrics.AGENT_ERRORS).value("reason", "failed") >= 1,
                TestSandbox.AGENT_DEADLINE);
        assertThat(families).containsKeys("kata_shim_threads", "kata_shim_fds").doesNotContainKeys("kata_guest_huge", SandboxMetrics.AGENT_AGE);
        assertThat(sandbox.get("/metrics", null).body().length()).as("what a scraper gets").isLessThan(1 << 20);
    }

    @Test
    void anUnreachableAgentLeavesOutOnlyTheAgentsPartAndIsCounted() throws Exception {
        TestSandbox sandbox = start(TestSandbox.in(root, "sb").realAgent().refreshPeriod(Duration.ofMillis(200)));
        Map<String, Family> before = sandbox.scrapeWithAgent();
        assertThat(before.get(SandboxMetrics.AGENT_AGE).value()).isNotNegative();
        sandbox.agent.close(); // the agent goes away; the shim's client stays
        Map<String, Family> after = sandbox.scrapeWhen(f -> !f.containsKey("kata_agent_threads"), TestSandbox.AGENT_DEADLINE);
        assertThat(after).containsKeys("kata_shim_threads", "kata_shim_process_open_fds").doesNotContainKey(SandboxMetrics.AGENT_AGE);
        assertThat(after.get(SandboxMetrics.AGENT_ERRORS).value("reason", "failed")).isGreaterThanOrEqualTo(1);
        assertThat(after.get(SandboxMetrics.AGENT_ERRORS).value("reason", "timeout")).isZero();
        // each refresh that fails counts: the counter goes on growing while the agent is away
        double failed = after.get(SandboxMetrics.AGENT_ERRORS).value("reason", "failed");
        sandbox.scrapeWhen(f -> f.get(SandboxMetrics.AGENT_ERRORS).value("reason", "failed") > failed, TestSandbox.AGENT_DEADLINE);
    }

    /** How long a scrape may take here, both cores busy; far below the wedged agent's timeout, so a scrape that waited for it would fail. */
    private static final Duration SCRAPE_DEADLINE = Duration.ofSeconds(5);

    @Test
    void anAgentThatNeverAnswersHoldsUpNoScrapeAndIsAskedOnce() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        CountDownLatch release = new CountDownLatch(1);
        // FAKE: an agent that takes the call and never answers (a wedged guest)
        TestSandbox sandbox = start(TestSandbox.in(root, "sb").agentTimeout(Duration.ofSeconds(30)).refreshPeriod(Duration.ofMillis(50))
                .agent(() -> {
                    calls.incrementAndGet();
                    release.await();
                    return "";
                }));
        open.add(release::countDown);
        long start = System.nanoTime();
        List<CompletableFuture<HttpClient.Response>> scrapes = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            scrapes.add(HttpClient.get(sandbox.socket(), "/metrics", null, Duration.ofSeconds(60)));
        }
        for (CompletableFuture<HttpClient.Response> scrape : scrapes) {
            HttpClient.Response r = scrape.get(60, TimeUnit.SECONDS);
            assertThat(r.status()).isEqualTo(200);
            assertThat(StrictPrometheusText.parse(r.body())).containsKey("kata_shim_threads").doesNotContainKey(SandboxMetrics.AGENT_AGE);
        }
        assertThat(Duration.ofNanos(System.nanoTime() - start)).as("5 scrapes beside a wedged agent").isLessThan(SCRAPE_DEADLINE);
        Thread.sleep(500); // ten refresh periods: the wedged call is waited for, not piled upon
        assertThat(calls.get()).as("agent calls").isEqualTo(1);
    }

    @Test
    void aLateAgentCountsATimeoutAndItsPartComesBackWhenItAnswers() throws Exception {
        CountDownLatch answerAgain = new CountDownLatch(1);
        AtomicInteger calls = new AtomicInteger();
        // FAKE: an agent whose second answer comes late (a guest under load), then well again
        TestSandbox sandbox = start(TestSandbox.in(root, "sb").agentTimeout(Duration.ofMillis(200)).refreshPeriod(Duration.ofMillis(100))
                .agent(() -> {
                    if (calls.incrementAndGet() == 2) {
                        answerAgain.await();
                    }
                    return "# TYPE kata_agent_threads gauge\nkata_agent_threads 3\n";
                }));
        open.add(answerAgain::countDown);
        sandbox.scrapeWithAgent();
        Map<String, Family> late = sandbox.scrapeWhen(f -> f.get(SandboxMetrics.AGENT_ERRORS).value("reason", "timeout") == 1,
                TestSandbox.AGENT_DEADLINE);
        assertThat(late).doesNotContainKey("kata_agent_threads"); // not served as if the agent were well
        answerAgain.countDown();
        Map<String, Family> back = sandbox.scrapeWithAgent();
        assertThat(back.get("kata_agent_threads").value()).isEqualTo(3);
        assertThat(back.get(SandboxMetrics.AGENT_AGE).value()).isLessThan(TestSandbox.AGENT_DEADLINE.toSeconds());
    }

    @Test
    void duringTeardownAScrapeGetsAnAnswerOr503AndNothingHangs() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch scrapeHeld = new CountDownLatch(1);
        java.util.concurrent.atomic.AtomicBoolean holdScrapes = new java.util.concurrent.atomic.AtomicBoolean();
        // FAKES: the agent is being torn down and does not answer; a hypervisor pid lookup that can be
        // held, so that a scrape is surely running when the teardown begins
        TestSandbox sandbox = start(TestSandbox.in(root, "sb").agentTimeout(Duration.ofSeconds(30)).agent(() -> {
            release.await();
            return "";
        }).hypervisorPid(() -> {
            if (holdScrapes.get()) {
                scrapeHeld.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return 0;
        }));
        open.add(release::countDown);
        try (RawHttp keepAlive = RawHttp.connect(sandbox.socket())) {
            keepAlive.send("GET /agent-url HTTP/1.1\r\nHost: x\r\n\r\n");
            assertThat(keepAlive.read(Duration.ofSeconds(5)).status()).isEqualTo(500);
            // a scrape beside the wedged agent: answered at once, without the agent's part
            HttpClient.Response r = sandbox.get("/metrics", null);
            assertThat(r.status()).isEqualTo(200);
            assertThat(StrictPrometheusText.parse(r.body())).containsKey("kata_shim_threads").doesNotContainKey("kata_agent_threads");

            holdScrapes.set(true);
            CompletableFuture<HttpClient.Response> inFlight = HttpClient.get(sandbox.socket(), "/metrics", null, Duration.ofSeconds(10));
            assertThat(scrapeHeld.await(5, TimeUnit.SECONDS)).isTrue();
            long start = System.nanoTime();
            CompletableFuture<Void> closing = CompletableFuture.runAsync(sandbox.server::close);
            // once new connections are refused, the server is draining
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> {
                try (SocketChannel probe = SocketChannel.open(StandardProtocolFamily.UNIX)) {
                    probe.connect(UnixDomainSocketAddress.of(sandbox.socket()));
                    return false;
                } catch (IOException refused) {
                    return true;
                }
            });
            // a request on a connection opened before: 503 while the server drains
            keepAlive.send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
            RawHttp.Response late = keepAlive.read(Duration.ofSeconds(5));
            assertThat(late.status()).isEqualTo(503);
            assertThat(late.headers()).containsEntry("connection", "close");
            // the scrape that was running finishes
            holdScrapes.set(false);
            release.countDown();
            assertThat(inFlight.get(5, TimeUnit.SECONDS).status()).isEqualTo(200);
            closing.get(10, TimeUnit.SECONDS);
            assertThat(Duration.ofNanos(System.nanoTime() - start)).as("close beside a wedged agent").isLessThan(SCRAPE_DEADLINE);
        }
        // and afterwards nobody is listening
        assertThat(sandbox.socket()).doesNotExist();
        try (SocketChannel probe = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            assertThatThrownBy(() -> probe.connect(UnixDomainSocketAddress.of(sandbox.socket()))).isInstanceOf(IOException.class);
        }
    }

    @Test
    void tooManyScrapesAtOnceWaitThenGet503() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch called = new CountDownLatch(1);
        // FAKE: a hypervisor whose pid lookup blocks, so that a scrape holds its permit for sure
        TestSandbox sandbox = start(TestSandbox.in(root, "sb").options(new ManagementServer.Options(1, Duration.ofMillis(200)))
                .hypervisorPid(() -> {
                    called.countDown();
                    try {
                        release.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    return 0;
                }));
        open.add(release::countDown);
        CompletableFuture<HttpClient.Response> first = HttpClient.get(sandbox.socket(), "/metrics", null, Duration.ofSeconds(10));
        assertThat(called.await(5, TimeUnit.SECONDS)).isTrue(); // the first scrape holds the only permit
        HttpClient.Response second = sandbox.get("/metrics", null);
        assertThat(second.status()).isEqualTo(503);
        release.countDown();
        assertThat(first.get(10, TimeUnit.SECONDS).status()).isEqualTo(200);
    }
}
