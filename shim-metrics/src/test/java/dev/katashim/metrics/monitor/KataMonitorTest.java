package dev.katashim.metrics.monitor;

import dev.katashim.metrics.ShimMetrics;
import dev.katashim.metrics.server.HttpClient;
import dev.katashim.metrics.container.ContainerUsage;
import dev.katashim.metrics.support.ContainerdBundles;
import dev.katashim.metrics.support.StrictPrometheusText;
import dev.katashim.metrics.support.StrictPrometheusText.Family;
import dev.katashim.metrics.support.TestSandbox;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The node monitor over real sandboxes: two management servers under one root, plus sandboxes
 * that do not answer (a directory without a socket, a socket file nobody listens on, and a socket
 * that accepts but never answers).
 */
class KataMonitorTest {
    private Path root;
    private Path containerdState;
    private final List<AutoCloseable> open = new ArrayList<>();

    @BeforeEach
    void prepare() throws Exception {
        root = Files.createTempDirectory(Path.of("/tmp"), "ksm-mon").resolve("sbs");
        Files.createDirectories(root);
        containerdState = root.getParent().resolve("containerd");
    }

    @AfterEach
    void cleanUp() throws Exception {
        for (AutoCloseable c : open.reversed()) {
            c.close();
        }
        TestSandbox.deleteTree(root.getParent());
    }

    private TestSandbox sandbox(String id) throws Exception {
        TestSandbox sandbox = TestSandbox.in(root, id).hypervisorPid(() -> ProcessHandle.current().pid()).start();
        open.add(sandbox);
        return sandbox;
    }

    private KataMonitor monitor(Duration timeout) throws Exception {
        KataMonitor monitor = KataMonitor.start(new KataMonitor.Options(new InetSocketAddress("127.0.0.1", 0),
                new SandboxRoot(root), containerdState, timeout));
        open.add(monitor);
        return monitor;
    }

    private static HttpClient.Response get(KataMonitor monitor, String path, String accept) throws Exception {
        return HttpClient.get(monitor.address(), false, path, accept, Duration.ofSeconds(15)).get();
    }

    @Test
    void servesEachFamilyOnceWithEverySandboxsSamplesLabelled() throws Exception {
        TestSandbox a = sandbox("sandbox-a");
        TestSandbox b = sandbox("sandbox-b");
        a.shim.observeShimRpc("create", 2_000_000);
        b.shim.observeShimRpc("create", 2_000_000);
        b.shim.observeShimRpc("create", 9_000_000);
        // sandbox-b was started through CRI: containerd keeps its bundle with the pod's annotations
        Path bundle = Files.createDirectories(containerdState.resolve("io.containerd.runtime.v2.task/k8s.io/sandbox-b"));
        Files.writeString(bundle.resolve("config.json"), """
                {"ociVersion":"1.0.2","annotations":{"io.kubernetes.cri.container-type":"sandbox",
                 "io.kubernetes.cri.sandbox-uid":"0b5c-uid","io.kubernetes.cri.sandbox-name":"web-0",
                 "io.kubernetes.cri.sandbox-namespace":"shop"}}
                """);
        KataMonitor monitor = monitor(Duration.ofSeconds(3));

        HttpClient.Response r = get(monitor, "/metrics", null);
        assertThat(r.status()).isEqualTo(200);
        Map<String, Family> families = StrictPrometheusText.parse(r.body()); // one HELP and TYPE per family, or it throws

        Family threads = families.get("kata_shim_threads");
        assertThat(threads.labelValues("sandbox_id")).containsExactlyInAnyOrder("sandbox-a", "sandbox-b");
        Family hypervisorThreads = families.get("kata_hypervisor_threads");
        assertThat(hypervisorThreads.samples()).hasSize(2);
        Family rpc = families.get(ShimMetrics.SHIM_RPC);
        assertThat(rpc.value("sandbox_id", "sandbox-a", "action", "create", "le", "+Inf")).isEqualTo(1);
        assertThat(rpc.value("sandbox_id", "sandbox-b", "action", "create", "le", "+Inf")).isEqualTo(2);
        assertThat(rpc.value("sandbox_id", "sandbox-b", "action", "create", "le", "8")).isEqualTo(1);

        for (Family f : families.values()) {
            if (f.name().startsWith("kata_monitor_")) {
                continue;
            }
            assertThat(f.samples()).as(f.name()).allSatisfy(s -> assertThat(s.labels()).containsKey("sandbox_id"));
            Set<String> ids = new TreeSet<>(f.labelValues("sandbox_id"));
            assertThat(ids).as(f.name()).isSubsetOf("sandbox-a", "sandbox-b");
        }
        assertThat(families.get("kata_shim_fds").sample("sandbox_id", "sandbox-b").labels())
                .containsEntry("cri_uid", "0b5c-uid").containsEntry("cri_name", "web-0").containsEntry("cri_namespace", "shop");
        assertThat(families.get("kata_shim_fds").sample("sandbox_id", "sandbox-a").labels())
                .doesNotContainKeys("cri_uid", "cri_name", "cri_namespace");
        assertThat(families.get(KataMonitor.RUNNING).value()).isEqualTo(2);
        assertThat(families.get(KataMonitor.FAILED).value()).isZero();
        assertThat(families.get(KataMonitor.DURATIONS).type()).isEqualTo("histogram");

        HttpClient.Response om = get(monitor, "/metrics", "application/openmetrics-text; version=1.0.0");
        assertThat(StrictPrometheusText.parseOpenMetrics(om.body()).get("kata_shim_threads").samples()).hasSize(2);
    }

    private static ContainerUsage usage(long workingSet) {
        return new ContainerUsage(1_000_000, 600_000, 400_000, workingSet + 4096, workingSet, workingSet, 4096, 0, 1, 0, 0,
                List.of(new ContainerUsage.Interface("lo", 10, 1, 0, 0, 10, 1, 0, 0)));
    }

    @Test
    void aCriPodsContainerSeriesGetCadvisorsContainerPodAndNamespaceLabelsAndGarbageBundlesOnlyLoseTheirName() throws Exception {
        ContainerdBundles bundles = new ContainerdBundles(containerdState);
        bundles.sandbox("pod-k", "uid-k", "web-0", "shop");
        bundles.container("app-k", "pod-k", "app");
        bundles.write("k8s.io", "junk-k", "\u0000{{{ not json");
        TestSandbox cri = sandbox("pod-k");
        Map<String, ContainerUsage> served = new java.util.concurrent.ConcurrentHashMap<>(Map.of(
                "pod-k", usage(100_000), "app-k", usage(200_000), "junk-k", usage(300_000)));
        cri.metrics.attachContainers(() -> Map.copyOf(served), "pod-k");
        bundles.write("default", "ctr-app", "{\"ociVersion\":\"1.0.2-dev\",\"annotations\":{}}"); // ctr's, no CRI
        TestSandbox plain = sandbox("ctr-sb");
        plain.metrics.attachContainers(() -> Map.of("ctr-app", usage(400_000)), "ctr-app");
        KataMonitor monitor = monitor(Duration.ofSeconds(3));

        HttpClient.Response r = get(monitor, "/metrics", null);
        assertThat(r.status()).isEqualTo(200);
        Map<String, Family> families = StrictPrometheusText.parse(r.body());
        Family workingSet = families.get("kata_container_memory_working_set_bytes");
        assertThat(workingSet.sample("container_id", "app-k").labels()).containsEntry("container", "app")
                .containsEntry("pod", "web-0").containsEntry("namespace", "shop")
                .containsEntry("sandbox_id", "pod-k").containsEntry("cri_name", "web-0").containsEntry("cri_uid", "uid-k");
        assertThat(workingSet.sample("container_id", "pod-k").labels()).as("the pause container")
                .doesNotContainKey("container").containsEntry("pod", "web-0").containsEntry("namespace", "shop");
        assertThat(workingSet.sample("container_id", "junk-k").labels()).as("its bundle is garbage")
                .doesNotContainKey("container").containsEntry("pod", "web-0");
        assertThat(workingSet.sample("container_id", "ctr-app").labels()).doesNotContainKeys("container", "pod", "namespace");
        assertThat(families.get("kata_container_network_receive_bytes_total").sample("container_id", "pod-k").labels())
                .containsEntry("interface", "lo").containsEntry("pod", "web-0");
        assertThat(families.get("kata_container_cpu_usage_seconds_total").labelValues("container")).containsOnly("app", null);
        assertThat(families.get("kata_shim_threads").sample("sandbox_id", "pod-k").labels()).doesNotContainKeys("pod", "container");

        served.remove("app-k"); // the container ends; another one of the same name comes
        bundles.container("app-k2", "pod-k", "app");
        served.put("app-k2", usage(250_000));
        Family after = StrictPrometheusText.parse(get(monitor, "/metrics", null).body()).get("kata_container_memory_working_set_bytes");
        assertThat(after.labelValues("container_id")).doesNotContain("app-k");
        assertThat(after.value("container", "app")).isEqualTo(250_000);
    }

    @Test
    void aSandboxThatDoesNotAnswerIsSkippedCountedAndHoldsNobodyUp() throws Exception {
        sandbox("alive");
        Files.createDirectories(root.resolve("no-socket"));
        Path dead = Files.createDirectories(root.resolve("dead")).resolve("shim-monitor.sock");
        try (ServerSocketChannel gone = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            gone.bind(UnixDomainSocketAddress.of(dead)); // its listener is closed at once: a dead shim's socket
        }
        Path wedged = Files.createDirectories(root.resolve("wedged")).resolve("shim-monitor.sock");
        ServerSocketChannel silent = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        silent.bind(UnixDomainSocketAddress.of(wedged)); // accepts (backlog) but never answers
        open.add(silent);
        KataMonitor monitor = monitor(Duration.ofMillis(500));

        long start = System.nanoTime();
        Map<String, Family> first = StrictPrometheusText.parse(get(monitor, "/metrics", null).body());
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(3));
        assertThat(first.get("kata_shim_threads").labelValues("sandbox_id")).containsExactly("alive");
        // a directory without its socket is no sandbox yet (a shim creates the socket first thing)
        assertThat(get(monitor, "/sandboxes", null).body()).isEqualTo("alive\ndead\nwedged\n");
        assertThat(first.get(KataMonitor.RUNNING).value()).isEqualTo(3);
        assertThat(first.get(KataMonitor.FAILED).value()).isEqualTo(2);
        assertThat(first.get(KataMonitor.FAILURES).value("reason", "no_answer")).as("the stale socket").isEqualTo(1);
        assertThat(first.get(KataMonitor.FAILURES).value("reason", "timeout")).as("the wedged one").isEqualTo(1);
        assertThat(first.get(KataMonitor.FAILURES).value("reason", "bad_answer")).isZero();
        assertThat(first.get(KataMonitor.SANDBOX_DURATION).value("sandbox_id", "wedged")).isGreaterThanOrEqualTo(0.5);
        assertThat(first.get(KataMonitor.SANDBOX_DURATION).value("sandbox_id", "alive")).isLessThan(0.5);
        Map<String, Family> second = StrictPrometheusText.parse(get(monitor, "/metrics", null).body());
        assertThat(second.get(KataMonitor.FAILED).value()).isEqualTo(4);
        assertThat(second.get(KataMonitor.SCRAPES).value()).isEqualTo(first.get(KataMonitor.SCRAPES).value() + 1);
    }

    /** How long the watcher may take to see a new sandbox here, both cores busy (it is told by inotify: milliseconds when idle). */
    private static final Duration DISCOVERY_DEADLINE = Duration.ofSeconds(5);

    @Test
    void aMonitorStartedBeforeAnySandboxRootExistsSeesSandboxesUnderBothRootsAsTheyComeAndGo() throws Exception {
        TestSandbox.deleteTree(root);
        Path goRoot = root.resolve("vc/sbs"); // neither root, nor its parent, exists yet
        Path rustRoot = root.getParent().resolve("run-kata");
        KataMonitor monitor = KataMonitor.start(new KataMonitor.Options(new InetSocketAddress("127.0.0.1", 0),
                List.of(goRoot, rustRoot), containerdState, Duration.ofSeconds(2)));
        open.add(monitor);
        assertThat(StrictPrometheusText.parse(get(monitor, "/metrics", null).body()).get(KataMonitor.RUNNING).value()).isZero();

        Files.createDirectories(goRoot);
        TestSandbox go = TestSandbox.in(goRoot, "pod-go").start();
        open.add(go);
        Files.createDirectories(rustRoot);
        TestSandbox rust = TestSandbox.in(rustRoot, "pod-rs").start();
        open.add(rust);
        long start = System.nanoTime();
        await().atMost(DISCOVERY_DEADLINE).until(() -> get(monitor, "/sandboxes", null).body().equals("pod-go\npod-rs\n"));
        System.out.printf("two new sandboxes seen after %d ms%n", (System.nanoTime() - start) / 1_000_000);
        Map<String, Family> both = StrictPrometheusText.parse(get(monitor, "/metrics", null).body());
        assertThat(both.get("kata_shim_threads").labelValues("sandbox_id")).containsExactlyInAnyOrder("pod-go", "pod-rs");
        assertThat(both.get(KataMonitor.FAILED).value()).isZero();

        go.server.close(); // its socket goes: the sandbox with it
        await().atMost(DISCOVERY_DEADLINE).until(() -> get(monitor, "/sandboxes", null).body().equals("pod-rs\n"));
        TestSandbox.deleteTree(rustRoot); // the whole root goes, and comes back
        await().atMost(DISCOVERY_DEADLINE).until(() -> get(monitor, "/sandboxes", null).body().isEmpty());
        Files.createDirectories(rustRoot);
        open.add(TestSandbox.in(rustRoot, "pod-rs-2").start());
        await().atMost(DISCOVERY_DEADLINE).until(() -> get(monitor, "/sandboxes", null).body().equals("pod-rs-2\n"));
        TestSandbox.deleteTree(rustRoot);
    }

    @Test
    void theAnswerIsGzippedForAClientThatAsks() throws Exception {
        sandbox("sandbox-a");
        KataMonitor monitor = monitor(Duration.ofSeconds(3));
        java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
        java.net.URI uri = java.net.URI.create("http://127.0.0.1:" + monitor.address().getPort() + "/metrics");
        java.net.http.HttpResponse<byte[]> gzipped = http.send(java.net.http.HttpRequest.newBuilder(uri)
                .header("Accept-Encoding", "gzip").build(), java.net.http.HttpResponse.BodyHandlers.ofByteArray());
        assertThat(gzipped.statusCode()).isEqualTo(200);
        assertThat(gzipped.headers().firstValue("content-encoding")).hasValue("gzip");
        String text;
        try (var in = new java.util.zip.GZIPInputStream(new java.io.ByteArrayInputStream(gzipped.body()))) {
            text = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        }
        assertThat(StrictPrometheusText.parse(text).get("kata_shim_threads").labelValues("sandbox_id")).containsExactly("sandbox-a");
        assertThat(gzipped.body().length).as("compressed").isLessThan(text.length() / 3);

        java.net.http.HttpResponse<String> plain = http.send(java.net.http.HttpRequest.newBuilder(uri).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(plain.headers().firstValue("content-encoding")).isEmpty();
        assertThat(StrictPrometheusText.parse(plain.body())).containsKey("kata_shim_threads");
    }

    @Test
    void aSandboxAnsweringMegabytesOfJunkLosesOnlyItsOwnPart() throws Exception {
        sandbox("alive");
        // FAKE: a socket in a sandbox directory answering 4 MiB of junk, then one good family (a broken or hostile shim)
        StringBuilder junk = new StringBuilder();
        while (junk.length() < 4 << 20) {
            junk.append("\u0000\u0007 not a metric line at all {{{\n");
        }
        junk.append("# TYPE kata_shim_fds gauge\nkata_shim_fds 5\n");
        Path fakeDir = Files.createDirectories(root.resolve("junk"));
        dev.katashim.metrics.server.HttpService fake = dev.katashim.metrics.server.HttpService.unix(
                new io.netty.channel.unix.DomainSocketAddress(fakeDir.resolve("shim-monitor.sock").toString()), "fake-shim",
                request -> dev.katashim.metrics.server.HttpAnswer.of(200, "text/plain; version=0.0.4", junk.toString()));
        open.add(fake);
        KataMonitor monitor = monitor(Duration.ofSeconds(5));
        await().atMost(DISCOVERY_DEADLINE).until(() -> get(monitor, "/sandboxes", null).body().contains("junk"));
        HttpClient.Response r = get(monitor, "/metrics", null);
        assertThat(r.status()).isEqualTo(200);
        Map<String, Family> families = StrictPrometheusText.parse(r.body());
        assertThat(families.get("kata_shim_threads").labelValues("sandbox_id")).containsExactly("alive");
        assertThat(families.get("kata_shim_fds").labelValues("sandbox_id")).containsExactlyInAnyOrder("alive", "junk");
        assertThat(families.get(KataMonitor.FAILED).value()).isZero();
    }

    @Test
    void listsSandboxesProxiesAgentUrlAndRefusesTheRest() throws Exception {
        sandbox("one");
        sandbox("two");
        KataMonitor monitor = monitor(Duration.ofSeconds(2));
        assertThat(get(monitor, "/sandboxes", null).body()).isEqualTo("one\ntwo\n");
        HttpClient.Response url = get(monitor, "/agent-url?sandbox=one", null);
        assertThat(url.status()).isEqualTo(502); // no agent in these sandboxes: the shim says 500, we say the sandbox failed us
        assertThat(url.body()).contains("not known");
        assertThat(get(monitor, "/agent-url", null).status()).isEqualTo(400);
        assertThat(get(monitor, "/agent-url?sandbox=..", null).status()).isEqualTo(400);
        // found while fuzzing the HTTP server: a bad escape or a NUL in the id was a 500 (an IllegalArgumentException)
        HttpClient.Response badEscape = get(monitor, "/agent-url?sandbox=%zz", null);
        assertThat(badEscape.status()).isEqualTo(400);
        assertThat(badEscape.body()).contains("malformed query sandbox=%zz");
        assertThat(get(monitor, "/agent-url?sandbox=a%00b", null).status()).isEqualTo(400);
        assertThat(get(monitor, "/agent-url?sandbox=nobody", null).status()).isEqualTo(404);
        assertThat(get(monitor, "/nothing", null).status()).isEqualTo(404);
        try (SocketChannel tcp = SocketChannel.open(monitor.address())) {
            tcp.write(java.nio.ByteBuffer.wrap("DELETE /metrics HTTP/1.1\r\nHost: x\r\n\r\n".getBytes()));
            java.nio.ByteBuffer in = java.nio.ByteBuffer.allocate(4096);
            tcp.read(in);
            assertThat(new String(in.array(), 0, in.position())).startsWith("HTTP/1.1 405");
        }
    }

    @Test
    void anEmptyOrMissingRootServesTheMonitorsOwnFamiliesOnly() throws Exception {
        TestSandbox.deleteTree(root);
        KataMonitor monitor = monitor(Duration.ofSeconds(1));
        Map<String, Family> families = StrictPrometheusText.parse(get(monitor, "/metrics", null).body());
        assertThat(families.keySet()).allMatch(n -> n.startsWith("kata_monitor_"));
        assertThat(families.get(KataMonitor.RUNNING).value()).isZero();
    }

    @Test
    void parsesItsCommandLine() {
        KataMonitor.Options o = KataMonitor.parse(new String[]{"--listen-address", "127.0.0.1:9999", "--sandbox-root", "/x",
                "--timeout", "750ms", "--containerd-state", "/c", "--sandbox-root", "/y"});
        assertThat(o.listen().getPort()).isEqualTo(9999);
        assertThat(o.roots()).containsExactly(Path.of("/x"), Path.of("/y"));
        assertThat(KataMonitor.parse(new String[0]).roots()).as("upstream's two runtimes' roots").contains(Path.of("/run/kata"))
                .hasSize(2);
        assertThat(o.scrapeTimeout()).isEqualTo(Duration.ofMillis(750));
        assertThat(o.containerdState()).isEqualTo(Path.of("/c"));
        assertThat(KataMonitor.parse(new String[]{"--help"})).isNull();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> KataMonitor.parse(new String[]{"--timeout", "0s"}))
                .hasMessageContaining("positive");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> KataMonitor.parse(new String[]{"--bogus", "1"}))
                .hasMessageContaining("unknown option");
    }
}
