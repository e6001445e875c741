package dev.katashim.it.shim;

import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * A scrape storm on one management socket: {@code clients} virtual threads, each scraping
 * {@code /metrics} back to back until the storm's length has passed. What every scrape got is
 * counted by outcome: its HTTP status, or its failure's type and message.
 * <p>
 * Each scrape is one blocking request on a connection of its own, its answer drained into a
 * reused buffer: a storm that costs the host little itself, so that what it costs the pod is the
 * shim's doing. (Our Netty client, in a test JVM whose leak detector is paranoid, took 1.5 of the
 * 2 cores for 400 scrapes/s: the pod then slowed for want of CPU, whatever the shim did.)
 */
final class ScrapeStorm {
    private static final byte[] REQUEST = "GET /metrics HTTP/1.1\r\nHost: shim\r\nAccept: text/plain\r\nConnection: close\r\n\r\n"
            .getBytes(StandardCharsets.US_ASCII);
    /** Where the status code sits in "HTTP/1.1 200 ...". */
    private static final int STATUS_START = 9;
    private static final int STATUS_END = STATUS_START + 3;

    private final Map<String, LongAdder> outcomes = new ConcurrentHashMap<>();
    private final List<Thread> clients = new ArrayList<>();
    private final Duration scrapeDeadline;
    private final Duration length;

    private ScrapeStorm(Duration length, Duration scrapeDeadline) {
        this.length = length;
        this.scrapeDeadline = scrapeDeadline;
    }

    /** Starts {@code clients} scrapers of {@code socket} for {@code length}, each scrape given {@code scrapeDeadline}. */
    static ScrapeStorm start(Path socket, int clients, Duration length, Duration scrapeDeadline) {
        ScrapeStorm storm = new ScrapeStorm(length, scrapeDeadline);
        long end = System.nanoTime() + length.toNanos();
        for (int i = 0; i < clients; i++) {
            storm.clients.add(Thread.ofVirtual().name("scraper-" + i).start(() -> storm.scrapeUntil(socket, end)));
        }
        return storm;
    }

    private void scrapeUntil(Path socket, long end) {
        ByteBuffer buffer = ByteBuffer.allocate(64 << 10);
        while (System.nanoTime() < end) {
            String outcome;
            try {
                outcome = Integer.toString(scrape(socket, buffer));
            } catch (IOException e) {
                outcome = e.getClass().getSimpleName() + ": " + e.getMessage();
            }
            if (Thread.currentThread().isInterrupted()) {
                return;
            }
            outcomes.computeIfAbsent(outcome, o -> new LongAdder()).increment();
        }
    }

    /** One GET /metrics on a new connection: the answer's status; the body is read and dropped. */
    private int scrape(Path socket, ByteBuffer buffer) throws IOException {
        try (SocketChannel channel = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
            channel.write(ByteBuffer.wrap(REQUEST));
            buffer.clear();
            long deadline = System.nanoTime() + scrapeDeadline.toNanos();
            int status = -1;
            while (channel.read(buffer) >= 0) { // the server closes the connection after its answer
                if (status < 0 && buffer.position() >= STATUS_END) {
                    status = Integer.parseInt(new String(buffer.array(), STATUS_START, 3, StandardCharsets.US_ASCII));
                }
                if (status >= 0) {
                    buffer.clear();
                }
                if (System.nanoTime() > deadline) {
                    throw new IOException("no whole answer within " + scrapeDeadline);
                }
            }
            if (status < 0) {
                throw new IOException("the connection closed before a status line");
            }
            return status;
        }
    }

    /** Whether the storm's clients are still scraping. */
    boolean raging() {
        return clients.stream().anyMatch(Thread::isAlive);
    }

    /**
     * Waits for every client's last scrape (at most its deadline past the storm's end); the count of
     * each outcome. A client still waiting then is counted as hung, and stopped.
     */
    Map<String, Long> outcomes() throws InterruptedException {
        for (Thread client : clients) {
            client.join(length.plus(scrapeDeadline));
            if (client.isAlive()) {
                outcomes.computeIfAbsent("hung past its deadline", o -> new LongAdder()).increment();
                client.interrupt(); // closes its channel
            }
        }
        Map<String, Long> counts = new TreeMap<>();
        outcomes.forEach((outcome, count) -> counts.put(outcome, count.sum()));
        return counts;
    }
}
