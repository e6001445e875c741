package dev.katashim.ttrpc.transport;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.util.concurrent.DefaultThreadFactory;

/**
 * The process-wide epoll event loops. They only move bytes; request handlers run on virtual
 * threads. One thread is plenty for a shim; {@code -Dkatashim.ttrpc.ioThreads=N} changes it.
 */
public final class EventLoops {
    private static final class Holder {
        static final EventLoopGroup SHARED = new MultiThreadIoEventLoopGroup(
                Integer.getInteger("katashim.ttrpc.ioThreads", 1),
                new DefaultThreadFactory("ttrpc-io", true),
                EpollIoHandler.newFactory());
    }

    private EventLoops() {
    }

    public static EventLoopGroup shared() {
        return Holder.SHARED;
    }
}
