package dev.katashim.ttrpc.server;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/** Counts calls being served so that a graceful shutdown can refuse new ones and wait for the rest. */
final class InFlight {
    private int count;
    private boolean closed;

    synchronized boolean tryEnter() {
        if (closed) {
            return false;
        }
        count++;
        return true;
    }

    synchronized void leave() {
        if (--count == 0) {
            notifyAll();
        }
    }

    synchronized int count() {
        return count;
    }

    /** Refuses new calls, then waits for the running ones; true when all finished in time. */
    synchronized boolean closeAndAwait(Duration timeout) throws InterruptedException {
        closed = true;
        long deadline = System.nanoTime() + timeout.toNanos();
        while (count > 0) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            TimeUnit.NANOSECONDS.timedWait(this, left);
        }
        return true;
    }
}
