package dev.katashim.agent.guest.process;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * Holds back the start of a terminal process that was given no console size until it has one.
 * containerd's clients send the first size (ResizePty → TtyWinResize) only after Start has
 * answered, so a process that asks for its size at once would see 0x0 (busybox's {@code stty size}
 * then fails). The gate opens on the first size, on anything else that needs the process (a
 * signal, a kill), or after a grace period for clients that never send a size.
 */
public final class WindowSizeGate {
    private static final Logger log = LoggerFactory.getLogger(WindowSizeGate.class);
    /** Long enough for a resize to come back through containerd and a slow (TCG) guest. */
    public static final Duration GRACE = Duration.ofSeconds(1);

    /** What opening does: start the process, with its size if one arrived. */
    @FunctionalInterface
    public interface Start {
        void start(Optional<WindowSize> size) throws Exception;
    }

    private final String name;
    private final Start start;
    private final CompletableFuture<Void> started = new CompletableFuture<>();
    private boolean opening;
    private boolean cancelled;

    private WindowSizeGate(String name, Start start) {
        this.name = name;
        this.start = start;
    }

    /** A closed gate for {@code name} that opens by itself after {@code grace}. */
    public static WindowSizeGate hold(String name, Duration grace, Start start) {
        WindowSizeGate gate = new WindowSizeGate(name, start);
        Thread.ofVirtual().name("gate-" + name).start(() -> {
            try {
                Thread.sleep(grace);
                if (gate.open(Optional.empty())) {
                    log.info("{}: no window size within {} ms, started without one", name, grace.toMillis());
                }
            } catch (Exception e) {
                log.warn("{}: starting after the grace period failed: {}", name, e.getMessage());
            }
        });
        return gate;
    }

    /**
     * Starts the process (once: the first caller runs {@link Start}, later ones wait for it to be
     * done); true for the caller that started it. A failure of the start is thrown to that caller.
     */
    public boolean open(Optional<WindowSize> size) throws Exception {
        synchronized (this) {
            if (cancelled) {
                return false;
            }
            if (opening) {
                size = null;
            } else {
                opening = true;
            }
        }
        if (size == null) {
            try {
                started.get();
            } catch (ExecutionException e) {
                // the opener reported it
            }
            return false;
        }
        try {
            start.start(size);
            started.complete(null);
            return true;
        } catch (Exception e) {
            started.completeExceptionally(e);
            throw e;
        }
    }

    /**
     * Closes the gate for good if nobody opened it yet (the process is removed before it started);
     * true if so, false if it is (being) started already.
     */
    public synchronized boolean cancel() {
        if (opening) {
            return false;
        }
        cancelled = true;
        return true;
    }
}
