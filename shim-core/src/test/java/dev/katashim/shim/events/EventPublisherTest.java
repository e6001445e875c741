package dev.katashim.shim.events;

import com.google.protobuf.Empty;
import dev.katashim.protocols.containerd.events.TaskExit;
import dev.katashim.protocols.containerd.services.events.ttrpc.v1.Envelope;
import dev.katashim.protocols.containerd.services.events.ttrpc.v1.ForwardRequest;
import dev.katashim.shim.io.StdioSpec;
import dev.katashim.ttrpc.server.ServiceDefinition;
import dev.katashim.ttrpc.server.TtrpcServer;
import dev.katashim.ttrpc.testing.TempSockets;
import dev.katashim.ttrpc.transport.Endpoint;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The event publisher against a stand-in for containerd's ttrpc Events service (our own ttrpc
 * server recording what it is sent): containerd being briefly away cannot be arranged with a real
 * containerd at a fixed address, so this fake plays it. The real containerd path is covered by the
 * end-to-end tests (ctr sees create, start, exit and delete).
 */
class EventPublisherTest {
    private final TempSockets sockets = new TempSockets();
    private final List<Envelope> received = new CopyOnWriteArrayList<>();
    private TtrpcServer fakeContainerd;

    @AfterEach
    void stop() throws Exception {
        if (fakeContainerd != null) {
            fakeContainerd.close();
        }
        sockets.close();
    }

    private void startFakeContainerd() throws Exception {
        fakeContainerd = TtrpcServer.builder()
                .service(ServiceDefinition.builder("containerd.services.events.ttrpc.v1.Events")
                        .unary("Forward", ForwardRequest.parser(), (request, ctx) -> {
                            received.add(request.getEnvelope());
                            return Empty.getDefaultInstance();
                        })
                        .build())
                .build()
                .listen(new Endpoint.UnixPath(sockets.path("containerd.sock.ttrpc")));
    }

    @Test
    void eventsArriveInOrderWithBareTypeUrlsAndTheNamespace() throws Exception {
        startFakeContainerd();
        try (EventPublisher publisher = new EventPublisher(sockets.path("containerd.sock.ttrpc").toString(), "k8s.io")) {
            TaskEvents events = new TaskEvents(publisher);
            events.created("c1", "/bundle", StdioSpec.NONE, 42);
            events.started("c1", 42);
            events.exited("c1", "c1", 42, 143, Instant.now());
            events.deleted("c1", 42, 143, Instant.now());
            await().atMost(Duration.ofSeconds(10)).until(() -> received.size() == 4);
        }
        assertThat(received).extracting(Envelope::getTopic).containsExactly("/tasks/create", "/tasks/start", "/tasks/exit", "/tasks/delete");
        assertThat(received).extracting(e -> e.getEvent().getTypeUrl())
                .containsExactly("containerd.events.TaskCreate", "containerd.events.TaskStart", "containerd.events.TaskExit", "containerd.events.TaskDelete");
        assertThat(received).allSatisfy(e -> {
            assertThat(e.getNamespace()).isEqualTo("k8s.io");
            assertThat(e.getTimestamp().getSeconds()).isPositive();
        });
        assertThat(TaskExit.parseFrom(received.get(2).getEvent().getValue()).getExitStatus()).isEqualTo(143);
    }

    @Test
    void anEventPublishedWhileContainerdIsAwayIsDeliveredWhenItIsBack() throws Exception {
        try (EventPublisher publisher = new EventPublisher(sockets.path("containerd.sock.ttrpc").toString(), "default")) {
            new TaskEvents(publisher).oom("c2");
            Thread.sleep(400); // containerd is away: the first attempts fail
            assertThat(received).isEmpty();
            startFakeContainerd();
            await().atMost(Duration.ofSeconds(10)).until(() -> received.size() == 1);
        }
        assertThat(received.getFirst().getTopic()).isEqualTo("/tasks/oom");
    }

    @Test
    void withoutTtrpcAddressEventsAreOnlyLogged() {
        try (EventPublisher publisher = new EventPublisher("", "default")) {
            new TaskEvents(publisher).started("c3", 1);
        }
        assertThat(received).isEmpty();
    }
}
