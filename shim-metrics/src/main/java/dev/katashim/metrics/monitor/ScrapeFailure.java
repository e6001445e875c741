package dev.katashim.metrics.monitor;

import java.io.IOException;
import java.util.concurrent.TimeoutException;

/** Why the monitor could not use a sandbox's answer, as {@code kata_monitor_scrape_failures_total{reason}} says it. */
final class ScrapeFailure {
    private ScrapeFailure() {
    }

    enum Reason {
        /** Nobody listening on the socket (a stale one), no socket any more, or the connection closed without an answer. */
        NO_ANSWER("no_answer"),
        /** No answer within the per-sandbox scrape timeout. */
        TIMEOUT("timeout"),
        /** An answer, but not 200. */
        BAD_ANSWER("bad_answer");

        private final String label;

        Reason(String label) {
            this.label = label;
        }

        String label() {
            return label;
        }

        static Reason of(Throwable cause) {
            if (cause instanceof TimeoutException) {
                return TIMEOUT;
            }
            return cause instanceof BadAnswer ? BAD_ANSWER : NO_ANSWER;
        }
    }

    /** A sandbox answered, but not with its metrics. */
    static final class BadAnswer extends IOException {
        BadAnswer(String message) {
            super(message);
        }
    }
}
