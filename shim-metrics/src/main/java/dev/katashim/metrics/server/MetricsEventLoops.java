package dev.katashim.metrics.server;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.util.concurrent.DefaultThreadFactory;

/**
 * The process-wide epoll event loop of the metrics servers and clients: one daemon thread that only
 * moves bytes (requests are answered on virtual threads).
 */
public final class MetricsEventLoops {
    private static final class Holder {
        static final EventLoopGroup SHARED = new MultiThreadIoEventLoopGroup(
                Integer.getInteger("katashim.metrics.ioThreads", 1),
                new DefaultThreadFactory("metrics-io", true),
                EpollIoHandler.newFactory());
    }

    private MetricsEventLoops() {
    }

    public static EventLoopGroup shared() {
        return Holder.SHARED;
    }
}
