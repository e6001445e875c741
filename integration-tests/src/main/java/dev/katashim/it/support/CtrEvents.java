package dev.katashim.it.support;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code ctr events} running beside a test, as a user watches a containerd: every event it prints
 * for this containerd's namespace, as topic and JSON body. {@link #start} returns once ctr is
 * subscribed (a namespace label change of ours has come through), so no later event is missed.
 */
public final class CtrEvents implements AutoCloseable {
    /** ctr prints {@code <timestamp with spaces> <namespace> <topic> <json>}, one a line. */
    private static final Pattern LINE = Pattern.compile("(?m)^.* (\\S+) (/\\S+) (\\{.*})$");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration PROBE_INTERVAL = Duration.ofSeconds(1);

    private final PrivateContainerd containerd;
    private final BackgroundCommand ctr;

    /** One event as ctr printed it. */
    public record Event(String topic, JsonNode body) {
        public String text(String field) {
            return body.path(field).asText("");
        }
    }

    private CtrEvents(PrivateContainerd containerd, BackgroundCommand ctr) {
        this.containerd = containerd;
        this.ctr = ctr;
    }

    public static CtrEvents start(PrivateContainerd containerd, Duration deadline) throws InterruptedException {
        CtrEvents events = new CtrEvents(containerd, containerd.ctrInBackground("events"));
        try {
            events.awaitSubscribed(deadline);
        } catch (RuntimeException | Error | InterruptedException e) {
            events.close();
            throw e;
        }
        return events;
    }

    /** Labels our namespace until ctr prints the update: from then on it sees every event. */
    private void awaitSubscribed(Duration deadline) throws InterruptedException {
        String probe = UUID.randomUUID().toString();
        long end = System.nanoTime() + deadline.toNanos();
        while (true) {
            CommandResult label = containerd.ctr("namespaces", "label", containerd.namespace(), "kt-events-probe=" + probe);
            if (!label.succeeded()) {
                throw new IllegalStateException("ctr namespaces label failed: " + label);
            }
            try {
                ctr.awaitOutput(out -> out.contains(probe), PROBE_INTERVAL);
                return;
            } catch (AssertionError notYet) {
                if (System.nanoTime() > end || !ctr.isAlive()) {
                    throw new AssertionError("ctr events did not show a namespace update within " + deadline.toSeconds() + " s: " + ctr);
                }
            }
        }
    }

    /** Every event of our namespace so far, in order. */
    public List<Event> all() {
        return parse(ctr.output());
    }

    private List<Event> parse(String output) {
        Matcher m = LINE.matcher(output);
        List<Event> events = new ArrayList<>();
        while (m.find()) {
            if (m.group(1).equals(containerd.namespace())) {
                events.add(new Event(m.group(2), json(m.group(3))));
            }
        }
        return events;
    }

    /** The first event on {@code topic} that {@code matches}, waiting for it up to {@code deadline}. */
    public Event await(String topic, Predicate<Event> matches, Duration deadline) throws InterruptedException {
        Predicate<Event> wanted = e -> e.topic().equals(topic) && matches.test(e);
        try {
            String output = ctr.awaitOutput(out -> parse(out).stream().anyMatch(wanted), deadline);
            return parse(output).stream().filter(wanted).findFirst().orElseThrow();
        } catch (AssertionError e) {
            throw new AssertionError("no " + topic + " event as awaited within " + deadline.toSeconds() + " s; events seen: " + all(), e);
        }
    }

    private static JsonNode json(String text) {
        try {
            return JSON.readTree(text);
        } catch (IOException e) {
            throw new UncheckedIOException("ctr events printed an event that is not JSON: " + text, e);
        }
    }

    @Override
    public void close() {
        ctr.close();
    }
}
