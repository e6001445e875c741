package dev.katashim.metrics;

import dev.katashim.metrics.expo.MetricFamily;
import dev.katashim.metrics.expo.TextFormatParser;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * What the shim serves of the agent's GetMetrics text: parsed strictly, malformed families dropped
 * (logged with the line and reason), {@code go_*}/{@code process_*} renamed {@code kata_agent_*} as
 * upstream's shim does, and families in the shim's own namespaces ({@code kata_shim_*},
 * {@code kata_hypervisor_*}) or repeated dropped, so that each family is served once. Every drop
 * counts in {@code kata_shim_agent_metrics_dropped_families_total}. Runs where the text is fetched
 * (in the background), not on a scrape.
 */
final class AgentPart {
    private static final Logger log = LoggerFactory.getLogger(AgentPart.class);
    private static final int MAX_LOGGED_REJECTIONS = 64;
    /** The largest agent text served: 1 MiB, 25 times what our agent writes for a big guest; more would be a broken or hostile agent. */
    static final int MAX_TEXT = 1 << 20;
    private static final List<String> SHIM_NAMESPACES = List.of("kata_shim_", "kata_hypervisor_");

    private final LongAdder dropped = new LongAdder();
    private final Set<String> loggedRejections = ConcurrentHashMap.newKeySet();

    /** The families to serve from {@code text}, sorted by name; a text over {@link #MAX_TEXT} is refused whole. */
    List<MetricFamily> families(String text) {
        if (text == null || text.isEmpty()) {
            return List.of();
        }
        if (text.length() > MAX_TEXT) {
            throw new IllegalArgumentException("the agent's metrics text has " + text.length() + " characters, more than the "
                    + MAX_TEXT + " accepted (ours writes about 40 KB): left out");
        }
        TextFormatParser.Result parsed = TextFormatParser.parse(text);
        for (TextFormatParser.Rejected r : parsed.rejected()) {
            drop("malformed: " + r);
        }
        Set<String> taken = new HashSet<>();
        List<MetricFamily> kept = new ArrayList<>(parsed.families().size());
        for (MetricFamily family : parsed.families()) {
            MetricFamily f = family;
            if (f.name().startsWith("go_") || f.name().startsWith("process_")) {
                f = f.renamed("kata_agent_" + f.name());
            }
            String name = f.name();
            if (SHIM_NAMESPACES.stream().anyMatch(name::startsWith)) {
                drop(name + ": a name of the shim's own");
            } else if (!taken.add(name)) {
                drop(name + ": served twice by the agent");
            } else {
                kept.add(f);
            }
        }
        kept.sort(Comparator.comparing(MetricFamily::name));
        return List.copyOf(kept);
    }

    /** Families dropped so far. */
    long dropped() {
        return dropped.sum();
    }

    private void drop(String what) {
        dropped.increment();
        if (loggedRejections.size() < MAX_LOGGED_REJECTIONS && loggedRejections.add(what)) {
            log.warn("agent metrics: family dropped: {}", what);
        }
    }
}
