package dev.katashim.ttrpc.server;

import dev.katashim.sys.ProcessEventLoop;
import dev.katashim.ttrpc.frame.FrameDecoder;
import dev.katashim.ttrpc.frame.FrameEncoder;
import dev.katashim.ttrpc.observe.CallObserver;
import dev.katashim.ttrpc.transport.Endpoint;
import dev.katashim.ttrpc.transport.Transports;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.netty.util.concurrent.GlobalEventExecutor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A ttrpc server: services registered by full name, served on any number of endpoints, each
 * call on its own virtual thread (a method registered as non-blocking on the connection's event
 * loop). Pipeline per connection:
 * {@code [peer check] → FrameDecoder → FrameEncoder → ServerConnectionHandler}.
 */
public final class TtrpcServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(TtrpcServer.class);
    private static final WriteBufferWaterMark WATER_MARK = new WriteBufferWaterMark(1 << 20, 4 << 20);

    private final CallDispatcher dispatcher;
    private final CallObserver observer;
    private final EventLoopGroup group;
    private final boolean requireSameUser;
    private final ExecutorService handlers = Executors.newThreadPerTaskExecutor(
            Thread.ofVirtual().name("ttrpc-call-", 0).factory());
    private final InFlight inFlight = new InFlight();
    private final ChannelGroup connections = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
    private final List<Transports.Listener> listeners = new CopyOnWriteArrayList<>();

    private TtrpcServer(Builder builder) {
        this.dispatcher = new CallDispatcher(builder.services);
        this.observer = CallObserver.all(builder.observers);
        this.group = builder.group == null ? ProcessEventLoop.group() : builder.group;
        this.requireSameUser = builder.requireSameUser;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Starts listening on {@code endpoint}; may be called for several endpoints. */
    public TtrpcServer listen(Endpoint endpoint) throws IOException {
        listeners.add(Transports.listen(endpoint, group, connectionInitializer(endpoint)));
        log.debug("ttrpc: serving on {}", endpoint);
        return this;
    }

    /** Serves on a listening unix socket inherited as {@code fd}; {@code endpoint} is its address. */
    public TtrpcServer listenOnInherited(int fd, Endpoint endpoint) throws IOException {
        listeners.add(Transports.adopt(fd, endpoint, group, connectionInitializer(endpoint)));
        log.debug("ttrpc: serving on inherited fd {} ({})", fd, endpoint);
        return this;
    }

    private ChannelInitializer<Channel> connectionInitializer(Endpoint endpoint) {
        // SO_PEERCRED exists for unix sockets only; a vsock peer is a VM, not a local user.
        boolean unixPeer = !(endpoint instanceof Endpoint.Vsock);
        PeerCredentialCheck peerCheck = requireSameUser && unixPeer ? new PeerCredentialCheck() : null;
        return new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                ch.config().setOption(ChannelOption.WRITE_BUFFER_WATER_MARK, WATER_MARK);
                connections.add(ch);
                if (peerCheck != null) {
                    ch.pipeline().addLast(peerCheck);
                }
                ch.pipeline().addLast(
                        new FlushConsolidationHandler(256, true),
                        new FrameDecoder(),
                        FrameEncoder.INSTANCE,
                        new ServerConnectionHandler(dispatcher, observer, handlers, inFlight));
            }
        };
    }

    /** The dispatcher, for transports that are not Netty channels (a guest's virtio-serial port). */
    public CallDispatcher dispatcher() {
        return dispatcher;
    }

    public int inFlightCalls() {
        return inFlight.count();
    }

    /**
     * Stops accepting connections and calls, lets running calls finish (up to {@code grace}),
     * then closes every connection. Returns true if no call had to be abandoned.
     */
    public boolean shutdown(Duration grace) throws InterruptedException {
        for (Transports.Listener listener : listeners) {
            listener.close();
        }
        listeners.clear();
        boolean drained = inFlight.closeAndAwait(grace);
        connections.close().awaitUninterruptibly();
        handlers.shutdownNow();
        return drained;
    }

    @Override
    public void close() {
        try {
            shutdown(Duration.ZERO);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    public static final class Builder {
        private final List<ServiceDefinition> services = new ArrayList<>();
        private final List<CallObserver> observers = new ArrayList<>();
        private EventLoopGroup group;
        private boolean requireSameUser = true;

        public Builder service(ServiceDefinition service) {
            services.add(service);
            return this;
        }

        /** Sees (service, method, duration, status) of every call, including rejected ones. */
        public Builder observer(CallObserver observer) {
            observers.add(observer);
            return this;
        }

        public Builder eventLoops(EventLoopGroup group) {
            this.group = group;
            return this;
        }

        /** Whether unix-socket peers must share this process's uid and gid (default: yes). */
        public Builder requireSameUser(boolean require) {
            this.requireSameUser = require;
            return this;
        }

        public TtrpcServer build() {
            return new TtrpcServer(this);
        }
    }
}
