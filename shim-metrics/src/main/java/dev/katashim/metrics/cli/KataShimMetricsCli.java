package dev.katashim.metrics.cli;

import dev.katashim.metrics.expo.ExpositionFormat;
import dev.katashim.metrics.expo.MetricFamily;
import dev.katashim.metrics.monitor.CriMetadata;
import dev.katashim.metrics.monitor.KataMonitor;
import dev.katashim.metrics.monitor.KubernetesLabels;
import dev.katashim.metrics.monitor.SandboxRoot;
import dev.katashim.metrics.monitor.SandboxScraper;
import dev.katashim.metrics.server.HttpClient;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * {@code kata-shim-metrics}: what the sandboxes of this node serve on their management sockets.
 * <pre>
 *   kata-shim-metrics list                       the sandboxes, their roots, and whether each one's socket answers
 *   kata-shim-metrics metrics SANDBOX_ID         its /metrics, sandbox_id added to every sample
 *   kata-shim-metrics agent-url SANDBOX_ID       its agent's address
 * </pre>
 * Options: {@code --sandbox-root DIR}, repeatable (default: the node monitor's roots,
 * {@code $KATA_SHIM_SANDBOX_ROOT} or /run/vc/sbs, and /run/kata), {@code --timeout DURATION}
 * (default 5s), {@code --openmetrics} (metrics in OpenMetrics 1.0).
 * Exit status: 0 done, 1 no such sandbox (or one under two roots) or it did not answer, 2 wrong usage.
 */
public final class KataShimMetricsCli {
    static final String USAGE = """
            usage: kata-shim-metrics [--sandbox-root DIR]... [--timeout DURATION] COMMAND
              list                    the sandboxes on this node (directories under the sandbox roots): id, root, state
              metrics SANDBOX_ID      one sandbox's metrics, with sandbox_id added to every sample
                                      (--openmetrics: OpenMetrics 1.0 instead of the text format 0.0.4)
              agent-url SANDBOX_ID    the address of the sandbox's agent
            the sandbox roots are $KATA_SHIM_SANDBOX_ROOT (else /run/vc/sbs) and /run/kata, or every --sandbox-root given""";

    private KataShimMetricsCli() {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        List<SandboxRoot> given = new ArrayList<>();
        Duration timeout = Duration.ofSeconds(5);
        boolean openMetrics = false;
        Path containerdState = CriMetadata.DEFAULT_CONTAINERD_STATE;
        List<String> words = new ArrayList<>();
        try {
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "-h", "--help", "help" -> {
                        out.println(USAGE);
                        return 0;
                    }
                    case "--sandbox-root" -> given.add(new SandboxRoot(Path.of(value(args, ++i, "--sandbox-root"))));
                    case "--timeout" -> timeout = KataMonitor.duration(value(args, ++i, "--timeout"));
                    case "--containerd-state" -> containerdState = Path.of(value(args, ++i, "--containerd-state"));
                    case "--openmetrics" -> openMetrics = true;
                    default -> {
                        if (args[i].startsWith("-")) {
                            throw new IllegalArgumentException("unknown option " + args[i]);
                        }
                        words.add(args[i]);
                    }
                }
            }
            if (words.isEmpty()) {
                throw new IllegalArgumentException("no command");
            }
            String command = words.getFirst();
            int expected = command.equals("list") ? 1 : 2;
            if (!List.of("list", "metrics", "agent-url").contains(command)) {
                throw new IllegalArgumentException("unknown command " + command);
            }
            if (words.size() != expected) {
                throw new IllegalArgumentException(command + (expected == 1 ? " takes no argument" : " takes one SANDBOX_ID"));
            }
            SandboxRoots roots = given.isEmpty() ? SandboxRoots.defaults() : new SandboxRoots(given);
            return switch (command) {
                case "list" -> list(roots, timeout, out, err);
                case "metrics" -> metrics(roots, words.get(1), containerdState, timeout, openMetrics, out, err);
                default -> agentUrl(roots, words.get(1), timeout, out, err);
            };
        } catch (IllegalArgumentException e) {
            err.println("kata-shim-metrics: " + e.getMessage());
            err.println(USAGE);
            return 2;
        } catch (IOException e) {
            err.println("kata-shim-metrics: " + e.getMessage());
            return 1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 1;
        }
    }

    private static String value(String[] args, int i, String option) {
        if (i >= args.length) {
            throw new IllegalArgumentException(option + " needs a value");
        }
        return args[i];
    }

    /** One line per sandbox: its id, its root, then "serving" or why not (the sockets are probed concurrently). */
    private static int list(SandboxRoots roots, Duration timeout, PrintStream out, PrintStream err) throws IOException, InterruptedException {
        Map<SandboxRoots.Listed, java.util.concurrent.CompletableFuture<HttpClient.Response>> probes = new LinkedHashMap<>();
        List<SandboxRoots.Listed> sandboxes = roots.sandboxes();
        if (sandboxes.isEmpty()) {
            err.println("kata-shim-metrics: no sandboxes under " + roots.describe());
        }
        for (SandboxRoots.Listed sandbox : sandboxes) {
            Path socket = sandbox.socket();
            probes.put(sandbox, Files.exists(socket) ? HttpClient.get(socket, "/agent-url", null, timeout) : null);
        }
        for (Map.Entry<SandboxRoots.Listed, java.util.concurrent.CompletableFuture<HttpClient.Response>> e : probes.entrySet()) {
            String state;
            if (e.getValue() == null) {
                state = "no management socket";
            } else {
                try {
                    e.getValue().get(timeout.toMillis() + 1000, TimeUnit.MILLISECONDS);
                    state = "serving";
                } catch (ExecutionException | TimeoutException failure) {
                    state = "not answering";
                }
            }
            out.println(e.getKey().id() + "\t" + e.getKey().root().path() + "\t" + state);
        }
        return 0;
    }

    private static int metrics(SandboxRoots roots, String id, Path containerdState, Duration timeout, boolean openMetrics,
                               PrintStream out, PrintStream err) throws IOException, InterruptedException {
        Path socket = roots.find(id).socket();
        Map<String, String> labels = new LinkedHashMap<>();
        labels.put("sandbox_id", id);
        java.util.Optional<CriMetadata.Pod> pod = new CriMetadata(containerdState).lookup(id);
        pod.ifPresent(p -> labels.putAll(p.labels()));
        List<MetricFamily> families;
        try {
            families = SandboxScraper.scrape(socket, labels, timeout).get(timeout.toMillis() + 1000, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause() instanceof java.util.concurrent.CompletionException c && c.getCause() != null
                    ? c.getCause() : e.getCause();
            err.println("kata-shim-metrics: sandbox " + id + ": " + cause.getMessage());
            return 1;
        } catch (TimeoutException e) {
            err.println("kata-shim-metrics: sandbox " + id + " did not answer within " + timeout.toMillis() + " ms");
            return 1;
        }
        families = new KubernetesLabels(containerdState).add(families, pod, new java.util.HashSet<>());
        out.print((openMetrics ? ExpositionFormat.OPENMETRICS_1_0_0 : ExpositionFormat.TEXT_0_0_4).write(families));
        out.flush();
        return 0;
    }

    private static int agentUrl(SandboxRoots roots, String id, Duration timeout, PrintStream out, PrintStream err)
            throws IOException, InterruptedException {
        HttpClient.Response response = HttpClient.getBlocking(roots.find(id).socket(), "/agent-url", null, timeout);
        if (response.status() != 200) {
            err.println("kata-shim-metrics: sandbox " + id + " answered " + response.status() + ": " + response.body().strip());
            return 1;
        }
        out.println(response.body().strip());
        return 0;
    }
}
