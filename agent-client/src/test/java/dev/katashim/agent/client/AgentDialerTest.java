package dev.katashim.agent.client;

import dev.katashim.ttrpc.testing.TempSockets;
import dev.katashim.ttrpc.transport.Endpoint;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Dialing faults that need no agent: nothing listening, and a socket that accepts but never answers. */
class AgentDialerTest {
    private final TempSockets sockets = new TempSockets();

    @AfterEach
    void cleanUp() throws Exception {
        sockets.close();
    }

    @Test
    void nothingListeningFailsAtTheDeadlineNamingTheEndpoint() {
        Endpoint endpoint = new Endpoint.UnixPath(sockets.path("absent.sock"));
        long start = System.nanoTime();
        assertThatThrownBy(() -> AgentClient.builder(endpoint).dialTimeout(Duration.ofMillis(800)).connect())
                .hasMessageContaining("the agent at " + endpoint + " did not answer within 800 ms")
                .hasMessageContaining("cannot connect");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isBetween(Duration.ofMillis(700), Duration.ofSeconds(5));
    }

    @Test
    void aSocketThatAcceptsButNeverAnswersIsNotAnAgent() throws Exception {
        // What QEMU's host-side virtio-serial socket looks like before the guest opens the port:
        // connections are accepted, requests go nowhere.
        Endpoint endpoint = new Endpoint.UnixPath(sockets.path("serial.sock"));
        try (ServerSocketChannel silent = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            silent.bind(UnixDomainSocketAddress.of(sockets.path("serial.sock")));
            Thread acceptor = Thread.ofVirtual().start(() -> {
                try (SocketChannel held = silent.accept()) {
                    Thread.sleep(10_000);
                } catch (Exception ignored) {
                    // closed by the test
                }
            });
            assertThatThrownBy(() -> AgentClient.builder(endpoint).dialTimeout(Duration.ofMillis(1500)).connect())
                    .hasMessageContaining("did not answer within 1500 ms")
                    .hasMessageContaining("health check");
            acceptor.interrupt();
        }
    }
}
