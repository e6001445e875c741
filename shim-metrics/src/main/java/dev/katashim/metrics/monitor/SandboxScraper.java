package dev.katashim.metrics.monitor;

import dev.katashim.metrics.expo.MetricFamily;
import dev.katashim.metrics.expo.TextFormatParser;
import dev.katashim.metrics.server.HttpClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * Scrapes one sandbox's {@code /metrics} (text format 0.0.4), parses it strictly, and labels every
 * sample with the sandbox's identity ({@code sandbox_id}, and {@code cri_uid}, {@code cri_name},
 * {@code cri_namespace} where known), as upstream's kata-monitor does. Families named
 * {@code go_*}/{@code process_*} (a Go shim's own) become {@code kata_shim_*}, as there too.
 */
public final class SandboxScraper {
    private static final Logger log = LoggerFactory.getLogger(SandboxScraper.class);
    static final String ACCEPT = "text/plain;version=0.0.4;q=1,*/*;q=0.1";
    /** Rejections logged per answer: a garbage answer of megabytes must not flood the log. */
    private static final int MAX_LOGGED = 5;

    private SandboxScraper() {
    }

    /** The sandbox's families, labelled; fails with the reason when it does not answer 200 in time. */
    public static CompletableFuture<List<MetricFamily>> scrape(Path socket, Map<String, String> labels, Duration timeout) {
        return HttpClient.get(socket, "/metrics", ACCEPT, timeout).thenApply(response -> {
            if (response.status() != 200) {
                throw new java.util.concurrent.CompletionException(new ScrapeFailure.BadAnswer(socket + " answered " + response.status()
                        + ": " + response.body().lines().findFirst().orElse("")));
            }
            return labelled(socket.toString(), response.body(), labels);
        });
    }

    /** Parses a sandbox's text and adds {@code labels} to every sample. */
    public static List<MetricFamily> labelled(String source, String text, Map<String, String> labels) {
        TextFormatParser.Result parsed = TextFormatParser.parse(text);
        for (TextFormatParser.Rejected r : parsed.rejected().subList(0, Math.min(MAX_LOGGED, parsed.rejected().size()))) {
            log.warn("{}: family dropped: {}", source, r);
        }
        if (parsed.rejected().size() > MAX_LOGGED) {
            log.warn("{}: {} more families or lines dropped", source, parsed.rejected().size() - MAX_LOGGED);
        }
        List<MetricFamily> families = new ArrayList<>(parsed.families().size());
        for (MetricFamily family : parsed.families()) {
            MetricFamily f = family;
            if (f.name().startsWith("go_") || f.name().startsWith("process_")) {
                f = f.renamed("kata_shim_" + f.name());
            }
            for (Map.Entry<String, String> label : labels.entrySet()) {
                f = f.withLabel(label.getKey(), label.getValue());
            }
            families.add(f);
        }
        return families;
    }
}
