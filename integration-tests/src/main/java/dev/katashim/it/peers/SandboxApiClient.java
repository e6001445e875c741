package dev.katashim.it.peers;

import com.google.protobuf.MessageLite;
import com.google.protobuf.Parser;
import dev.katashim.ttrpc.client.CallOptions;
import dev.katashim.ttrpc.client.TtrpcClient;
import dev.katashim.ttrpc.transport.Endpoint;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Calls {@code containerd.runtime.sandbox.v1.Sandbox} on a shim as containerd 2.x's shim sandboxer
 * does (plugins/sandbox/controller.go): on the connection start's address names, the namespace in
 * the ttrpc metadata.
 */
public final class SandboxApiClient implements AutoCloseable {
    public static final String SERVICE = "containerd.runtime.sandbox.v1.Sandbox";

    private final TtrpcClient client;
    private final String namespace;

    public SandboxApiClient(TtrpcClient client, String namespace) {
        this.client = client;
        this.namespace = namespace;
    }

    public static SandboxApiClient connect(Path shimSocket, String namespace) throws IOException {
        return new SandboxApiClient(TtrpcClient.connect(new Endpoint.UnixPath(shimSocket)), namespace);
    }

    /** One call, answered within 10 s. */
    public <T extends MessageLite> T call(String method, MessageLite request, Parser<T> parser) throws InterruptedException {
        return call(method, request, parser, Duration.ofSeconds(10));
    }

    /** StartSandbox boots a VM, and WaitSandbox blocks until the sandbox ends: they take a longer timeout. */
    public <T extends MessageLite> T call(String method, MessageLite request, Parser<T> parser, Duration timeout)
            throws InterruptedException {
        CallOptions options = CallOptions.timeout(timeout).withMetadata("containerd-namespace-ttrpc", namespace);
        return client.blockingCall(SERVICE, method, request, parser, options);
    }

    @Override
    public void close() {
        client.close();
    }
}
