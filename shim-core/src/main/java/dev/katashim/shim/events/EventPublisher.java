package dev.katashim.shim.events;

import com.google.protobuf.Any;
import com.google.protobuf.Empty;
import com.google.protobuf.Message;
import com.google.protobuf.Timestamp;
import dev.katashim.protocols.containerd.services.events.ttrpc.v1.Envelope;
import dev.katashim.protocols.containerd.services.events.ttrpc.v1.ForwardRequest;
import dev.katashim.ttrpc.client.CallOptions;
import dev.katashim.ttrpc.client.TtrpcClient;
import dev.katashim.ttrpc.transport.Endpoint;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Sends task events to containerd's {@code Events/Forward} over ttrpc, one at a time and in the
 * order they were published (create → start → exit → delete). An event that cannot be delivered
 * because containerd is briefly away is retried with backoff on a fresh connection; after
 * {@link #MAX_ATTEMPTS} it is logged and dropped, as upstream does.
 */
public final class EventPublisher implements Publisher, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(EventPublisher.class);
    static final int MAX_ATTEMPTS = 6;
    private static final Duration FORWARD_TIMEOUT = Duration.ofSeconds(5);

    private record Pending(String topic, Message event, Instant at) {
    }

    private static final Pending STOP = new Pending("", Empty.getDefaultInstance(), Instant.EPOCH);

    private final Endpoint containerd;
    private final String namespace;
    private final BlockingQueue<Pending> queue = new LinkedBlockingQueue<>();
    private final Thread worker;
    private TtrpcClient client;

    /** {@code ttrpcAddress} is containerd's {@code TTRPC_ADDRESS}; null or empty only logs events. */
    public EventPublisher(String ttrpcAddress, String namespace) {
        this.containerd = ttrpcAddress == null || ttrpcAddress.isEmpty() ? null : endpointOf(ttrpcAddress);
        this.namespace = namespace;
        this.worker = Thread.ofVirtual().name("event-publisher").start(this::run); // idle it only waits on its queue
    }

    private static Endpoint endpointOf(String address) {
        return address.contains("://") ? Endpoint.parse(address) : new Endpoint.UnixPath(java.nio.file.Path.of(address));
    }

    @Override
    public void publish(String topic, Message event) {
        queue.add(new Pending(topic, event, Instant.now()));
    }

    /** Delivers what is queued (up to {@code timeout}), then stops. */
    public void drainAndClose(Duration timeout) {
        queue.add(STOP);
        try {
            worker.join(timeout);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        worker.interrupt();
        closeClient();
    }

    @Override
    public void close() {
        drainAndClose(Duration.ofSeconds(5));
    }

    private void run() {
        try {
            while (true) {
                Pending next = queue.take();
                if (next == STOP) {
                    return;
                }
                deliver(next);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void deliver(Pending pending) throws InterruptedException {
        if (containerd == null) {
            log.info("event {} (no TTRPC_ADDRESS: not sent): {}", pending.topic(), pending.event());
            return;
        }
        ForwardRequest request = ForwardRequest.newBuilder().setEnvelope(Envelope.newBuilder()
                .setTimestamp(Timestamp.newBuilder().setSeconds(pending.at().getEpochSecond()).setNanos(pending.at().getNano()))
                .setNamespace(namespace)
                .setTopic(pending.topic())
                // containerd resolves bare full names only, not type.googleapis.com/...
                .setEvent(Any.newBuilder().setTypeUrl(pending.event().getDescriptorForType().getFullName())
                        .setValue(pending.event().toByteString())))
                .build();
        long backoffMillis = 50;
        for (int attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
            try {
                connection().blockingCall("containerd.services.events.ttrpc.v1.Events", "Forward", request,
                        Empty.parser(), CallOptions.timeout(FORWARD_TIMEOUT));
                log.debug("event {} sent", pending.topic());
                return;
            } catch (Exception e) {
                if (e instanceof InterruptedException ie) {
                    throw ie;
                }
                log.warn("event {} not delivered (attempt {} of {}): {}", pending.topic(), attempt, MAX_ATTEMPTS, e.getMessage());
                closeClient();
                Thread.sleep(backoffMillis);
                backoffMillis = Math.min(2000, backoffMillis * 2);
            }
        }
        log.error("event {} dropped after {} attempts: {}", pending.topic(), MAX_ATTEMPTS, pending.event());
    }

    private TtrpcClient connection() throws java.io.IOException {
        if (client == null || !client.isOpen()) {
            client = TtrpcClient.builder(containerd).connectTimeout(Duration.ofSeconds(2)).connect();
        }
        return client;
    }

    private void closeClient() {
        TtrpcClient c = client;
        client = null;
        if (c != null) {
            c.close();
        }
    }

    int queued() {
        return queue.size();
    }

    static boolean awaitEmpty(EventPublisher p, long millis) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        while (p.queued() > 0 && System.nanoTime() < end) {
            Thread.sleep(10);
        }
        return p.queued() == 0;
    }
}
