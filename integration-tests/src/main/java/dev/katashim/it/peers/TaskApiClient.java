package dev.katashim.it.peers;

import com.google.protobuf.MessageLite;
import com.google.protobuf.Parser;
import dev.katashim.protocols.containerd.task.v2.ConnectRequest;
import dev.katashim.protocols.containerd.task.v2.ConnectResponse;
import dev.katashim.protocols.containerd.task.v2.PidsRequest;
import dev.katashim.protocols.containerd.task.v2.PidsResponse;
import dev.katashim.protocols.containerd.task.v2.StateRequest;
import dev.katashim.protocols.containerd.task.v2.StateResponse;
import dev.katashim.ttrpc.client.CallOptions;
import dev.katashim.ttrpc.client.TtrpcClient;
import dev.katashim.ttrpc.transport.Endpoint;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Calls {@code containerd.task.v2.Task} (or containerd 2.x's {@code containerd.task.v3.Task}, the
 * same messages) on a shim the way containerd does: over the shim's ttrpc socket, with the
 * namespace in the {@code containerd-namespace-ttrpc} metadata.
 */
public final class TaskApiClient implements AutoCloseable {
    public static final String SERVICE = "containerd.task.v2.Task";
    public static final String SERVICE_V3 = "containerd.task.v3.Task";

    private final TtrpcClient client;
    private final CallOptions options;
    private final String service;

    public TaskApiClient(TtrpcClient client, String namespace) {
        this(client, namespace, SERVICE);
    }

    public TaskApiClient(TtrpcClient client, String namespace, String service) {
        this(client, namespace, service, Duration.ofSeconds(10));
    }

    /** {@code timeout} for every call: a container's Start in a VM under TCG takes longer than 10 s. */
    public TaskApiClient(TtrpcClient client, String namespace, String service, Duration timeout) {
        this.client = client;
        this.options = CallOptions.timeout(timeout).withMetadata("containerd-namespace-ttrpc", namespace);
        this.service = service;
    }

    public static TaskApiClient connect(Path shimSocket, String namespace) throws IOException {
        return new TaskApiClient(TtrpcClient.connect(new Endpoint.UnixPath(shimSocket)), namespace);
    }

    /** The task API a containerd speaks after start's reply declared {@code version} (3: v3, else v2). */
    public static TaskApiClient connect(Path shimSocket, String namespace, int version) throws IOException {
        return connect(shimSocket, namespace, version, Duration.ofSeconds(10));
    }

    public static TaskApiClient connect(Path shimSocket, String namespace, int version, Duration timeout) throws IOException {
        return new TaskApiClient(TtrpcClient.connect(new Endpoint.UnixPath(shimSocket)), namespace,
                version >= 3 ? SERVICE_V3 : SERVICE, timeout);
    }

    public String service() {
        return service;
    }

    public StateResponse state(String id) throws InterruptedException {
        return call("State", StateRequest.newBuilder().setId(id).build(), StateResponse.parser());
    }

    public PidsResponse pids(String id) throws InterruptedException {
        return call("Pids", PidsRequest.newBuilder().setId(id).build(), PidsResponse.parser());
    }

    public ConnectResponse connect(String id) throws InterruptedException {
        return call("Connect", ConnectRequest.newBuilder().setId(id).build(), ConnectResponse.parser());
    }

    public TtrpcClient ttrpc() {
        return client;
    }

    /** Any Task RPC, for the calls this class has no shorthand for. */
    public <T extends MessageLite> T call(String method, MessageLite request, Parser<T> parser) throws InterruptedException {
        return client.blockingCall(service, method, request, parser, options);
    }

    @Override
    public void close() {
        client.close();
    }
}
