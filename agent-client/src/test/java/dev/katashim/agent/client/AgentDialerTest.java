package dev.katashim.agent.client;

import dev.katashim.ttrpc.testing.TempSockets;
import dev.katashim.ttrpc.transport.Endpoint;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

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

    @Test
    void anInterruptedDialThrowsAndClosesItsConnection() throws Exception {
        // a shim stopping while its guest boots interrupts the dial: the half-made connection must go with it
        Endpoint endpoint = new Endpoint.UnixPath(sockets.path("booting.sock"));
        try (ServerSocketChannel silent = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            silent.bind(UnixDomainSocketAddress.of(sockets.path("booting.sock")));
            CompletableFuture<Throwable> dialled = new CompletableFuture<>();
            Thread dialer = Thread.ofVirtual().start(() -> {
                try {
                    AgentClient.builder(endpoint).dialTimeout(Duration.ofSeconds(600)).connect();
                    dialled.complete(null);
                } catch (Throwable e) {
                    dialled.complete(e);
                }
            });
            try (SocketChannel held = silent.accept()) {
                dialer.interrupt();
                assertThat(dialled.get(30, TimeUnit.SECONDS)).isInstanceOf(InterruptedException.class);
                // the dialer's side closed: reading sees the end of the stream (after its health checks' bytes)
                CompletableFuture<Integer> endOfStream = CompletableFuture.supplyAsync(() -> {
                    ByteBuffer buffer = ByteBuffer.allocate(4096);
                    try {
                        int read;
                        do {
                            read = held.read(buffer.clear());
                        } while (read > 0);
                        return read;
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                }, Thread::startVirtualThread);
                assertThat(endOfStream.get(30, TimeUnit.SECONDS)).isEqualTo(-1);
            }
        }
    }
}
