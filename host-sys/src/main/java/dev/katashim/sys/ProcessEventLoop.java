package dev.katashim.sys;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import org.slf4j.LoggerFactory;

/**
 * The one epoll event-loop group of this process, shared by every Netty client and server in it
 * (ttrpc, the metrics HTTP server and clients). Its daemon threads only move bytes; handlers run
 * on virtual threads, so one thread is plenty for a shim: {@code -Dkatashim.ioThreads=N} changes it.
 */
public final class ProcessEventLoop {
    /** The system property that sets the number of I/O threads. */
    public static final String THREADS_PROPERTY = "katashim.ioThreads";
    /** The name of its threads, followed by "-&lt;group&gt;-&lt;n&gt;". */
    public static final String THREAD_NAME = "katashim-io";

    private static final class Holder {
        static final EventLoopGroup GROUP = create(threads(System.getProperty(THREADS_PROPERTY)));
    }

    private ProcessEventLoop() {
    }

    /** The process-wide group, created on first use. */
    public static EventLoopGroup group() {
        return Holder.GROUP;
    }

    /** A group of {@code threads} daemon epoll threads. */
    static EventLoopGroup create(int threads) {
        return new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory(THREAD_NAME, true), EpollIoHandler.newFactory());
    }

    /** The thread count a property value asks for: a positive number, else 1 (Netty would read 0 as "2 per core"). */
    static int threads(String configured) {
        if (configured == null) {
            return 1;
        }
        try {
            int threads = Integer.parseInt(configured.trim());
            if (threads > 0) {
                return threads;
            }
        } catch (NumberFormatException e) {
            // below
        }
        LoggerFactory.getLogger(ProcessEventLoop.class).warn("-D{}={} is not a positive number: using 1 I/O thread",
                THREADS_PROPERTY, configured);
        return 1;
    }
}
