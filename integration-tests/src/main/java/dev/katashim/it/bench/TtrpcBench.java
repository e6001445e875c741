package dev.katashim.it.bench;

import dev.katashim.it.peers.TaskApiClient;
import dev.katashim.it.support.BusyboxRootfs;
import dev.katashim.it.support.CommandResult;
import dev.katashim.it.support.PrivateContainerd;
import dev.katashim.protocols.containerd.task.v2.StateRequest;
import dev.katashim.protocols.containerd.task.v2.StateResponse;
import dev.katashim.protocols.containerd.types.task.Status;
import dev.katashim.ttrpc.client.CallOptions;
import dev.katashim.ttrpc.client.TtrpcClient;
import dev.katashim.ttrpc.server.ServiceDefinition;
import dev.katashim.ttrpc.server.TtrpcServer;
import dev.katashim.ttrpc.transport.Endpoint;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Unary round trips over a unix socket, our client against two servers in the same run:
 * (a) our ttrpc server, (b) containerd-shim-runc-v2 (Go ttrpc) answering {@code Task/State} for a
 * real busybox container. Both answer the same call with a StateResponse of the same shape.
 * <p>Usage: {@code TtrpcBench [latencyCalls] [throughputSeconds] [inFlight]}.
 */
public final class TtrpcBench {
    private static final String SERVICE = TaskApiClient.SERVICE;

    public static void main(String[] args) throws Exception {
        int latencyCalls = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
        int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        int inFlight = args.length > 2 ? Integer.parseInt(args[2]) : 64;

        Path dir = Files.createTempDirectory(Path.of("/tmp"), "ktb");
        try (PrivateContainerd containerd = PrivateContainerd.start()) {
            String id = containerd.uniqueId("bench");
            BusyboxRootfs rootfs = BusyboxRootfs.create(dir.resolve("rootfs"));
            CommandResult run = containerd.ctr("run", "-d", "--rootfs", rootfs.path().toString(), id, "/bin/sleep", "600");
            if (!run.succeeded()) {
                throw new IllegalStateException("ctr run failed: " + run);
            }
            StateRequest request = StateRequest.newBuilder().setId(id).build();
            CallOptions options = CallOptions.DEFAULT.withMetadata("containerd-namespace-ttrpc", containerd.namespace());

            StateResponse sample;
            try (TtrpcClient runc = TtrpcClient.connect(new Endpoint.UnixPath(containerd.shimSocket(id)))) {
                sample = runc.blockingCall(SERVICE, "State", request, StateResponse.parser(), options);
            }
            Endpoint ours = new Endpoint.UnixPath(dir.resolve("ours.sock"));
            StateResponse fixed = sample.toBuilder().setStatus(Status.RUNNING).build();
            ServiceDefinition task = ServiceDefinition.builder(SERVICE)
                    .unary("State", StateRequest.parser(), (req, ctx) -> fixed)
                    .build();
            try (TtrpcServer server = TtrpcServer.builder().service(task).build().listen(ours)) {
                System.out.printf("ttrpc unary round trip, one connection, %d sequential calls for latency, %d s at %d in flight for throughput%n",
                        latencyCalls, seconds, inFlight);
                System.out.printf("%-34s %10s %10s %14s%n", "server", "p50 (us)", "p99 (us)", "calls/s");
                Result a = measure(ours, request, options, latencyCalls, seconds, inFlight);
                Result b = measure(new Endpoint.UnixPath(containerd.shimSocket(id)), request, options, latencyCalls, seconds, inFlight);
                print("ours (Java, Netty)", a);
                print("containerd-shim-runc-v2 (Go)", b);
                System.out.printf("ratio ours/runc-shim: p50 %.2f, p99 %.2f, throughput %.2f%n",
                        a.latency.p50Micros() / b.latency.p50Micros(), a.latency.p99Micros() / b.latency.p99Micros(),
                        a.callsPerSecond / b.callsPerSecond);
            }
        } finally {
            try (var walk = Files.walk(dir)) {
                walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
        System.exit(0);
    }

    private record Result(LatencyStats latency, double callsPerSecond) {
    }

    private static void print(String name, Result r) {
        System.out.printf("%-34s %10.1f %10.1f %14.0f%n", name, r.latency.p50Micros(), r.latency.p99Micros(), r.callsPerSecond);
    }

    private static Result measure(Endpoint endpoint, StateRequest request, CallOptions options,
                                  int latencyCalls, int seconds, int inFlight) throws Exception {
        try (TtrpcClient client = TtrpcClient.connect(endpoint)) {
            for (int i = 0; i < Math.max(2000, latencyCalls / 5); i++) {
                client.blockingCall(SERVICE, "State", request, StateResponse.parser(), options);
            }
            long[] nanos = new long[latencyCalls];
            for (int i = 0; i < latencyCalls; i++) {
                long start = System.nanoTime();
                client.blockingCall(SERVICE, "State", request, StateResponse.parser(), options);
                nanos[i] = System.nanoTime() - start;
            }
            return new Result(LatencyStats.of(nanos), throughput(client, request, options, seconds, inFlight));
        }
    }

    /** Keeps {@code inFlight} calls outstanding on one connection for {@code seconds}. */
    private static double throughput(TtrpcClient client, StateRequest request, CallOptions options,
                                     int seconds, int inFlight) throws Exception {
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
}
