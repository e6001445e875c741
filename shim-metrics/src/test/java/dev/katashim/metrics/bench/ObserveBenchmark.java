package dev.katashim.metrics.bench;

import dev.katashim.agent.client.AgentCallObserver;
import dev.katashim.metrics.ShimMetrics;
import dev.katashim.ttrpc.observe.CallObserver;
import dev.katashim.ttrpc.observe.CompletedCall;
import dev.katashim.ttrpc.status.StatusCode;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * What observing one RPC costs, as the shim will wire it. Each benchmark completes one call:
 * <ul>
 *   <li>{@code taskCallNotObserved}: the Task server's interceptor with no observer (the baseline);</li>
 *   <li>{@code taskCallObserved}: the interceptor mapping the method to its action (a map lookup, as
 *       shim-core's TaskActions does) and {@link ShimMetrics#observeShimRpc};</li>
 *   <li>{@code agentCallObserved}: agent-client's observer chain (AgentActions.of, then
 *       {@link ShimMetrics#observeAgentRpc});</li>
 *   <li>{@code observeOnly}: {@link ShimMetrics#observeShimRpc} alone;</li>
 *   <li>{@code javaClient*}: the same histogram in the Prometheus Java client 1.10, for comparison.</li>
 * </ul>
 * Run: {@code shim-metrics/bench/run-jmh} (figures in shim-metrics/README.md).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-XX:+UseSerialGC"})
public class ObserveBenchmark {
    private static final Map<String, String> TASK_ACTIONS = Map.of("Create", "create", "State", "state", "Wait", "wait");

    private ShimMetrics metrics;
    private CallObserver none;
    private CallObserver taskObserver;
    private CallObserver agentObserver;
    private CompletedCall taskCall;
    private CompletedCall agentCall;
    private Histogram javaClient;
    private DistributionDataPoint javaClientCreate;

    @Setup
    public void setUp() {
        metrics = new ShimMetrics();
        none = CallObserver.NONE;
        ShimMetrics m = metrics;
        taskObserver = call -> {
            String action = TASK_ACTIONS.get(call.method());
            if (action != null) {
                m.observeShimRpc(action, call.durationNanos());
            }
        };
        AgentCallObserver agent = (action, nanos, outcome) -> m.observeAgentRpc(action, nanos);
        agentObserver = agent.asTtrpcObserver();
        taskCall = new CompletedCall("containerd.task.v2.Task", "State", 42_000, StatusCode.OK);
        agentCall = new CompletedCall("grpc.AgentService", "StatsContainer", 850_000, StatusCode.OK);
        javaClient = Histogram.builder().name("rpc_durations_histogram_milliseconds").help("RPC latency distributions.")
                .labelNames("action").classicExponentialUpperBounds(1, 2, 10).classicOnly().withoutExemplars()
                .register(new PrometheusRegistry());
        javaClientCreate = javaClient.labelValues("state");
    }

    @Benchmark
    public void taskCallNotObserved() {
        none.completed(taskCall);
    }

    @Benchmark
    public void taskCallObserved() {
        taskObserver.completed(taskCall);
    }

    @Benchmark
    public void agentCallObserved() {
        agentObserver.completed(agentCall);
    }

    @Benchmark
    public void observeOnly() {
        metrics.observeShimRpc("state", 42_000);
    }

    @Benchmark
    public void javaClientLabelValues() {
        javaClient.labelValues("state").observe(0.042);
    }

    @Benchmark
    public void javaClientCachedDataPoint() {
        javaClientCreate.observe(0.042);
    }
}
