package dev.katashim.it.peers;

import com.google.protobuf.Any;
import com.google.protobuf.Empty;
import com.google.protobuf.Message;
import com.google.protobuf.Timestamp;
import dev.katashim.protocols.containerd.services.events.ttrpc.v1.Envelope;
import dev.katashim.protocols.containerd.services.events.ttrpc.v1.ForwardRequest;
import dev.katashim.ttrpc.client.CallOptions;
import dev.katashim.ttrpc.client.TtrpcClient;
import dev.katashim.ttrpc.transport.Endpoint;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;

/** Publishes an event to containerd's ttrpc {@code Events/Forward}, as a shim does. */
public final class EventsForwarder implements AutoCloseable {
    private final TtrpcClient client;

    public EventsForwarder(Path containerdTtrpcSocket) throws IOException {
        this.client = TtrpcClient.connect(new Endpoint.UnixPath(containerdTtrpcSocket));
    }

    public void forward(String namespace, String topic, Message event) throws InterruptedException {
        Instant now = Instant.now();
        Envelope envelope = Envelope.newBuilder()
                .setTimestamp(Timestamp.newBuilder().setSeconds(now.getEpochSecond()).setNanos(now.getNano()))
                .setNamespace(namespace)
                .setTopic(topic)
                // containerd resolves the bare full name, not type.googleapis.com/<name>
                .setEvent(Any.newBuilder().setTypeUrl(event.getDescriptorForType().getFullName()).setValue(event.toByteString()))
                .build();
        client.blockingCall("containerd.services.events.ttrpc.v1.Events", "Forward",
                ForwardRequest.newBuilder().setEnvelope(envelope).build(), Empty.parser(), CallOptions.timeout(Duration.ofSeconds(5)));
    }

    @Override
    public void close() {
        client.close();
    }
}
