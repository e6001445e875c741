package dev.katashim.agent.guest.container;

import com.fasterxml.jackson.databind.JsonNode;
import dev.katashim.agent.guest.runc.Runc;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;

/**
 * Follows {@code runc events <id>} (runc watches the memory cgroup: an eventfd on cgroup v1's
 * {@code memory.oom_control}, {@code memory.events} on v2) and reports each {@code "type":"oom"}.
 * runc ends the stream when the container ends.
 */
final class OomWatcher {
    private static final Logger log = LoggerFactory.getLogger(OomWatcher.class);

    private final Process events;

    private OomWatcher(Process events) {
        this.events = events;
    }

    static OomWatcher start(Runc runc, String containerId, Consumer<String> onOom) {
        Process events;
        try {
            events = runc.events(containerId)
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectError(ProcessBuilder.Redirect.DISCARD)
                    .start();
        } catch (IOException e) {
            log.warn("no OOM events for container {}: {}", containerId, e.getMessage());
            return new OomWatcher(null);
        }
        Thread.ofVirtual().name("oom-" + containerId).start(() -> {
            try (BufferedReader lines = new BufferedReader(new InputStreamReader(events.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = lines.readLine()) != null) {
                    try {
                        JsonNode event = Runc.json().readTree(line);
                        if ("oom".equals(event.path("type").asText())) {
                            log.info("container {} hit its memory limit (OOM)", containerId);
                            onOom.accept(containerId);
                        }
                    } catch (IOException e) {
                        log.debug("unreadable runc event for {}: {}", containerId, line);
                    }
                }
            } catch (IOException e) {
                // stopped
            }
        });
        return new OomWatcher(events);
    }

    void stop() {
        if (events != null && events.isAlive()) {
            events.destroy();
            try {
                events.waitFor();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
