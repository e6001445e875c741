package dev.katashim.it.bench;

import com.google.protobuf.Message;
import com.google.protobuf.Parser;
import dev.katashim.it.peers.TaskApiClient;
import dev.katashim.it.shim.KataConfigs;
import dev.katashim.it.support.BusyboxRootfs;
import dev.katashim.it.support.CommandResult;
import dev.katashim.it.support.PrivateContainerd;
import dev.katashim.it.support.TempDirs;
import dev.katashim.protocols.containerd.task.v2.StateRequest;
import dev.katashim.protocols.containerd.task.v2.StateResponse;
import dev.katashim.protocols.containerd.task.v2.StatsRequest;
import dev.katashim.protocols.containerd.task.v2.StatsResponse;
import dev.katashim.ttrpc.client.CallOptions;
import dev.katashim.ttrpc.client.TtrpcClient;
import dev.katashim.ttrpc.transport.Endpoint;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The Task service of the real shims over ttrpc, the same client for both: containerd-shim-runc-v2
 * answering for a runc container, and ours (its whole Task service, the no-VM sandbox) for one of
 * ours, both started by one private containerd and running {@code sleep}. The first client is not
 * ours and not Java ({@code scripts/ttrpc-task-client.py}, plain Python on a unix socket); the second
 * is our Java client, which also measures throughput (calls in flight on one connection). Rounds
 * alternate the two shims; each figure is the median of the rounds. Stats makes a twentieth of the
 * State calls: ours asks the agent, which asks runc (milliseconds a call).
 * <p>Usage: {@code TtrpcBench [calls=20000] [rounds=3] [throughputSeconds=5] [inFlight=64]}.
 */
public final class TtrpcBench {
    private static final String SERVICE = TaskApiClient.SERVICE;
    private static final Duration CLIENT_DEADLINE = Duration.ofMinutes(10);

    /** The rows of the table, in the order each round measures them. */
    private static final List<String> ROWS = List.of("Python client, State", "Python client, Stats", "Java client, State", "Java client, Stats");

    /** A shim under test and what the rounds measured of it: per row one figure a round, and its throughputs. */
    private record Target(String name, Path socket, String id, List<List<Figure>> figures, List<Double> throughput) {
        Target(String name, Path socket, String id) {
            this(name, socket, id, ROWS.stream().<List<Figure>>map(row -> new ArrayList<>()).toList(), new ArrayList<>());
        }
    }

    /** One round's figures of one client and method against one shim. */
    private record Figure(double p50Micros, double p99Micros) {
    }

    public static void main(String[] args) throws Exception {
        int calls = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        int seconds = args.length > 2 ? Integer.parseInt(args[2]) : 5;
        int inFlight = args.length > 3 ? Integer.parseInt(args[3]) : 64;
        int statsCalls = Math.max(200, calls / 20);
        Path repo = Path.of("").toAbsolutePath();
        Path pythonClient = repo.resolve("scripts/ttrpc-task-client.py");
        Path dir = TempDirs.createShort("ktb");
        try (PrivateContainerd containerd = PrivateContainerd.builder().prependToPath(repo.resolve("bin"))
                .environment("KATA_CONF_FILE", KataConfigs.noVm(dir).toString()).start()) {
            String rootfs = BusyboxRootfs.create(dir.resolve("rootfs")).path().toString();
            List<Target> targets = new ArrayList<>(); // ours, then the runc shim
            for (String runtime : List.of("io.containerd.kata.v2", "io.containerd.runc.v2")) {
                String id = containerd.uniqueId("ttb");
                CommandResult run = containerd.ctr("run", "-d", "--runtime", runtime, "--rootfs", rootfs, id, "/bin/sleep", "3600");
                if (!run.succeeded()) {
                    throw new IllegalStateException("ctr run " + runtime + " failed: " + run);
                }
                targets.add(new Target(runtime.contains("kata") ? "ours" : "runc shim", containerd.shimSocket(id), id));
            }
            System.out.printf("Task service over ttrpc, a running container, one connection, %d sequential State calls (%d Stats)"
                    + " after a fifth as many to warm up, %d rounds%n", calls, statsCalls, rounds);
            CallOptions options = CallOptions.DEFAULT.withMetadata("containerd-namespace-ttrpc", containerd.namespace());
            for (int round = 0; round < rounds; round++) {
                for (Target target : targets) {
                    List<List<Figure>> figures = target.figures();
                    figures.get(0).add(python(pythonClient, containerd, target, "State", calls));
                    figures.get(1).add(python(pythonClient, containerd, target, "Stats", statsCalls));
                    StateRequest state = StateRequest.newBuilder().setId(target.id()).build();
                    StatsRequest stats = StatsRequest.newBuilder().setId(target.id()).build();
                    try (TtrpcClient client = TtrpcClient.connect(new Endpoint.UnixPath(target.socket()))) {
                        figures.get(2).add(java(client, "State", state, StateResponse.parser(), options, calls));
                        figures.get(3).add(java(client, "Stats", stats, StatsResponse.parser(), options, statsCalls));
                        target.throughput().add(throughput(client, state, options, seconds, inFlight));
                    }
                }
            }
            System.out.printf("%-22s | %-19s | %-19s | %s%n", "", "ours p50 / p99 (µs)", "runc shim p50 / p99", "ratio p50 / p99");
            Target ours = targets.get(0);
            Target runc = targets.get(1);
            for (int i = 0; i < ROWS.size(); i++) {
                Figure a = median(ours.figures().get(i));
                Figure b = median(runc.figures().get(i));
                System.out.printf("%-22s | %8.0f / %8.0f | %8.0f / %8.0f | %.2f / %.2f%n", ROWS.get(i), a.p50Micros(), a.p99Micros(),
                        b.p50Micros(), b.p99Micros(), a.p50Micros() / b.p50Micros(), a.p99Micros() / b.p99Micros());
            }
            double a = medianOf(ours.throughput());
            double b = medianOf(runc.throughput());
            System.out.printf("%-22s | %19.0f | %19.0f | %.2f%n", "Java client, State/s", a, b, a / b);
            System.out.printf("(throughput: %d calls in flight on one connection for %d s)%n", inFlight, seconds);
            for (Target target : targets) {
                containerd.ctr("task", "kill", "-s", "KILL", target.id());
                containerd.ctr("task", "rm", "-f", target.id());
                containerd.ctr("c", "rm", target.id());
            }
        } finally {
            TempDirs.deleteRecursively(dir);
        }
        System.exit(0);
    }

    /** The Python client's figures for {@code calls} sequential calls, after a fifth as many to warm up. */
    private static Figure python(Path client, PrivateContainerd containerd, Target target, String method, int calls) throws Exception {
        Process process = new ProcessBuilder("python3", client.toString(), target.socket().toString(), containerd.namespace(),
                target.id(), method, Integer.toString(calls), Integer.toString(calls / 5)).redirectErrorStream(true).start();
        // it prints one line (or a traceback) at its end, well within a pipe's buffer: wait first, so that the deadline holds
        if (!process.waitFor(CLIENT_DEADLINE.toSeconds(), TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IllegalStateException("the Python client against " + target.name() + " " + method + " did not end within " + CLIENT_DEADLINE);
        }
        String out = new String(process.getInputStream().readAllBytes()).trim();
        if (process.exitValue() != 0 || !out.startsWith("p50 ")) {
            throw new IllegalStateException("the Python client against " + target.name() + " " + method + " failed: " + out);
        }
        // p50 X p99 Y mean Z calls N
        String[] words = out.split(" ");
        return new Figure(Double.parseDouble(words[1]), Double.parseDouble(words[3]));
    }

    private static <Q extends Message, A extends Message> Figure java(TtrpcClient client, String method, Q request, Parser<A> parser,
                                                                   CallOptions options, int calls) throws Exception {
        for (int i = 0; i < calls / 5; i++) {
            client.blockingCall(SERVICE, method, request, parser, options);
        }
        long[] nanos = new long[calls];
        for (int i = 0; i < calls; i++) {
            long start = System.nanoTime();
            client.blockingCall(SERVICE, method, request, parser, options);
            nanos[i] = System.nanoTime() - start;
        }
        LatencyStats stats = LatencyStats.of(nanos);
        return new Figure(stats.p50Micros(), stats.p99Micros());
    }

    /** Keeps {@code inFlight} State calls outstanding on one connection for {@code seconds}; calls per second. */
    private static double throughput(TtrpcClient client, StateRequest request, CallOptions options, int seconds, int inFlight)
            throws Exception {
        Semaphore window = new Semaphore(inFlight);
        AtomicLong done = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        long start = System.nanoTime();
        long end = start + Duration.ofSeconds(seconds).toNanos();
        while (System.nanoTime() < end) {
            window.acquire();
            CompletableFuture<StateResponse> call = client.call(SERVICE, "State", request, StateResponse.parser(), options);
            call.whenComplete((r, e) -> {
                (e == null ? done : failed).incrementAndGet();
                window.release();
            });
        }
        window.acquire(inFlight);
        double elapsed = (System.nanoTime() - start) / 1e9;
        if (failed.get() > 0) {
            throw new IllegalStateException(failed.get() + " calls failed during the throughput run");
        }
        return done.get() / elapsed;
    }

    private static Figure median(List<Figure> figures) {
        return new Figure(medianOf(figures.stream().map(Figure::p50Micros).toList()), medianOf(figures.stream().map(Figure::p99Micros).toList()));
    }

    private static double medianOf(List<Double> values) {
        List<Double> sorted = values.stream().sorted(Comparator.naturalOrder()).toList();
        return sorted.get(sorted.size() / 2);
    }
}
