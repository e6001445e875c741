package dev.katashim.agent.guest.process;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One output stream of a process (stdout, stderr or a terminal), between the pump that reads the
 * pipe and the ReadStdout/ReadStderr calls that drain it. Bounded: when full the pump waits, so
 * the process blocks on its write as it would on a full pipe. A reader that is interrupted (its
 * client went away) takes nothing, so no output is lost to a vanished caller.
 */
public final class OutputBuffer {
    public static final int DEFAULT_CAPACITY = 1 << 20;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition readable = lock.newCondition();
    private final Condition writable = lock.newCondition();
    private final byte[] ring;
    private int head;
    private int size;
    private boolean ended;
    private boolean discarded;

    public OutputBuffer(int capacity) {
        this.ring = new byte[capacity];
    }

    public OutputBuffer() {
        this(DEFAULT_CAPACITY);
    }

    /** Appends output, waiting for room; dropped silently once {@link #discard()} was called. */
    public void append(byte[] data, int offset, int length) throws InterruptedException {
        lock.lockInterruptibly();
        try {
            int done = 0;
            while (done < length) {
                while (size == ring.length && !discarded) {
                    writable.await();
                }
                if (discarded) {
                    return;
                }
                int tail = (head + size) % ring.length;
                int chunk = Math.min(length - done, Math.min(ring.length - size, ring.length - tail));
                System.arraycopy(data, offset + done, ring, tail, chunk);
                size += chunk;
                done += chunk;
                readable.signalAll();
            }
        } finally {
            lock.unlock();
        }
    }

    /** Marks the end of the stream: readers get what is left, then empty replies. */
    public void end() {
        lock.lock();
        try {
            ended = true;
            readable.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Nobody will read any more (the process was removed): the pump may run free. */
    public void discard() {
        lock.lock();
        try {
            discarded = true;
            ended = true;
            size = 0;
            readable.signalAll();
            writable.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Up to {@code max} bytes, waiting until there is at least one; an empty array once the stream
     * has ended and everything was read.
     */
    public byte[] read(int max) throws InterruptedException {
        lock.lockInterruptibly();
        try {
            while (size == 0 && !ended) {
                readable.await();
            }
            return take(max);
        } finally {
            lock.unlock();
        }
    }

    /** As {@link #read}, but gives up after {@code timeoutMillis} with whatever is there (maybe nothing). */
    public byte[] read(int max, long timeoutMillis) throws InterruptedException {
        lock.lockInterruptibly();
        try {
            long left = TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
            while (size == 0 && !ended && left > 0) {
                left = readable.awaitNanos(left);
            }
            return take(max);
        } finally {
            lock.unlock();
        }
    }

    public boolean ended() {
        lock.lock();
        try {
            return ended && size == 0;
        } finally {
            lock.unlock();
        }
    }

    private byte[] take(int max) {
        int n = Math.min(max, size);
        byte[] out = new byte[n];
        int first = Math.min(n, ring.length - head);
        System.arraycopy(ring, head, out, 0, first);
        System.arraycopy(ring, 0, out, first, n - first);
        head = (head + n) % ring.length;
        size -= n;
        if (n > 0) {
            writable.signalAll();
        }
        return out;
    }
}
