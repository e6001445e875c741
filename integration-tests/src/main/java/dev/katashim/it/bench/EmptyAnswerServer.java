package dev.katashim.it.bench;

import dev.katashim.metrics.server.HttpAnswer;
import dev.katashim.metrics.server.HttpService;
import io.netty.channel.unix.DomainSocketAddress;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The baseline of {@link MetricsBench}: the management socket's machinery (our {@link HttpService}
 * over a unix socket, Netty epoll, a handler on a virtual thread) answering {@code GET /metrics}
 * with an empty 200, what the runc shim's metrics cost a scraper. Run in a JVM with the shim's
 * flags; it prints "ready" once listening and stops when its stdin closes.
 * Usage: {@code EmptyAnswerServer <socket>}.
 */
public final class EmptyAnswerServer {
    public static void main(String[] args) throws Exception {
        Path socket = Path.of(args[0]);
        Files.deleteIfExists(socket);
        HttpService http = HttpService.unix(new DomainSocketAddress(socket.toString()), "empty",
                request -> HttpAnswer.of(200, "text/plain; version=0.0.4; charset=utf-8", ""));
        System.out.println("ready");
        System.out.flush();
        while (System.in.read() >= 0) {
            // until the bench closes our stdin
        }
        http.close(Duration.ofSeconds(1));
        Files.deleteIfExists(socket);
    }
}
