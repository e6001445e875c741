package dev.katashim.ttrpc.transport;

import dev.katashim.sys.UnixSocketFile;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.epoll.VSockAddress;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.util.concurrent.Promise;

import java.io.IOException;
import java.net.SocketAddress;
import java.nio.file.Files;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/** Opens listeners and connections for every {@link Endpoint} kind, all on epoll. */
public final class Transports {
    private Transports() {
    }

    /** A bound listener; closing it removes the socket file it created. */
    public record Listener(Channel channel, Endpoint endpoint) implements AutoCloseable {
        @Override
        public void close() {
            channel.close().syncUninterruptibly();
            switch (endpoint) {
                case Endpoint.UnixPath unix -> deleteQuietly(unix.path());
                case Endpoint.HybridVsock hybrid -> deleteQuietly(hybrid.path());
                default -> { }
            }
        }

        private static void deleteQuietly(java.nio.file.Path path) {
            try {
                Files.deleteIfExists(path);
            } catch (IOException ignored) {
                // the directory may already be gone; nothing is left to leak
            }
        }
    }

    /**
     * Listens on {@code endpoint}; {@code childInitializer} sets up each accepted connection.
     * Unix socket files are created 0600 in a 0700 directory, replacing a stale file safely.
     */
    public static Listener listen(Endpoint endpoint, EventLoopGroup group, ChannelHandler childInitializer)
            throws IOException {
        ChannelHandler children = childInitializer;
        if (endpoint instanceof Endpoint.HybridVsock hybrid) {
            children = new ChannelInitializer<>() {
                @Override
                protected void initChannel(Channel ch) {
                    ch.pipeline().addLast(new HybridVsockAcceptor(hybrid.port()), childInitializer);
                }
            };
        }
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(group)
                .childHandler(children);
        if (endpoint instanceof Endpoint.Vsock vsock) {
            // Netty's channels do not bind AF_VSOCK addresses themselves: bind the socket, then adopt it.
            // The domain-socket channel classes fit: plain stream sockets, no TCP options to set.
            EpollServerDomainSocketChannel adopted = new EpollServerDomainSocketChannel(VsockSockets.listening(vsock).intValue(), true);
            ChannelFuture registered = bootstrap.channelFactory(() -> adopted).register().awaitUninterruptibly();
            if (!registered.isSuccess()) {
                adopted.close();
                throw new IOException("cannot listen on " + endpoint + ": " + registered.cause().getMessage(), registered.cause());
            }
            return new Listener(adopted, endpoint);
        }
        bootstrap.channel(EpollServerDomainSocketChannel.class);
        java.nio.file.Path file = socketFile(endpoint);
        if (file != null) {
            UnixSocketFile.createPrivateDirectory(file);
            UnixSocketFile.prepareBind(file);
        }
        ChannelFuture bound = bootstrap.bind(address(endpoint)).awaitUninterruptibly();
        if (!bound.isSuccess()) {
            throw new IOException("cannot listen on " + endpoint + ": " + bound.cause().getMessage(), bound.cause());
        }
        if (file != null) {
            UnixSocketFile.restrictToOwner(file);
        }
        return new Listener(bound.channel(), endpoint);
    }

    /**
     * Serves on a listening unix socket this process inherited as file descriptor {@code fd} (a
     * shim's {@code start} step binds the socket, then hands it over, as containerd's shims do).
     * {@code endpoint} names it for logs and is not bound again; closing removes its file.
     */
    public static Listener adopt(int fd, Endpoint endpoint, EventLoopGroup group, ChannelHandler childInitializer)
            throws IOException {
        // "active": the socket is already bound and listening, so accepting starts on registration
        EpollServerDomainSocketChannel adopted = new EpollServerDomainSocketChannel(fd, true);
        ChannelFuture registered = new ServerBootstrap().group(group).childHandler(childInitializer)
                .channelFactory(() -> adopted).register().awaitUninterruptibly();
        if (!registered.isSuccess()) {
            adopted.close();
            throw new IOException("cannot serve on inherited fd " + fd + " (" + endpoint + "): "
                    + registered.cause().getMessage(), registered.cause());
        }
        return new Listener(adopted, endpoint);
    }

    /**
     * Connects to {@code endpoint} (completing the hybrid-vsock handshake where needed) and returns
     * the open channel with {@code handler} installed.
     */
    public static Channel connect(Endpoint endpoint, EventLoopGroup group, ChannelHandler handler, Duration timeout)
            throws IOException {
        Bootstrap bootstrap = new Bootstrap()
                .group(group)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, timeout.toMillis()))
                .handler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        if (endpoint instanceof Endpoint.HybridVsock hybrid) {
                            Promise<Void> handshake = ch.eventLoop().newPromise();
                            ch.attr(HANDSHAKE).set(handshake);
                            ch.pipeline().addLast(new HybridVsockConnector(hybrid.port(), handshake));
                        }
                        ch.pipeline().addLast(handler);
                    }
                });
        ChannelFuture connected;
        if (endpoint instanceof Endpoint.Vsock vsock) {
            // As for listening: connect the AF_VSOCK socket ourselves, then adopt it.
            int fd = VsockSockets.connected(vsock, timeout).intValue();
            connected = bootstrap.channelFactory(() -> new EpollDomainSocketChannel(fd)).register();
        } else {
            connected = bootstrap.channel(EpollDomainSocketChannel.class).connect(address(endpoint));
        }
        if (!connected.awaitUninterruptibly(timeout.toMillis(), TimeUnit.MILLISECONDS) || !connected.isSuccess()) {
            closeQuietly(connected.channel());
            Throwable cause = connected.cause();
            throw new IOException("cannot connect to " + endpoint + ": "
                    + (cause == null ? "timed out after " + timeout.toMillis() + " ms" : cause.getMessage()), cause);
        }
        Promise<Void> handshake = connected.channel().attr(HANDSHAKE).get();
        if (handshake != null) {
            if (!handshake.awaitUninterruptibly(timeout.toMillis()) || !handshake.isSuccess()) {
                connected.channel().close();
                Throwable cause = handshake.cause();
                throw new IOException("cannot connect to " + endpoint + ": "
                        + (cause == null ? "no hybrid vsock reply within " + timeout.toMillis() + " ms" : cause.getMessage()), cause);
            }
        }
        return connected.channel();
    }

    private static void closeQuietly(Channel channel) {
        if (channel.isRegistered()) {
            channel.close();
        } else {
            try {
                channel.unsafe().closeForcibly(); // never reached an event loop: release the fd directly
            } catch (UnsupportedOperationException failedToCreate) {
                // Netty's placeholder for a channel whose constructor failed: there is nothing to close
            }
        }
    }

    private static final io.netty.util.AttributeKey<Promise<Void>> HANDSHAKE =
            io.netty.util.AttributeKey.valueOf("katashim.hvsock.handshake");

    private static java.nio.file.Path socketFile(Endpoint endpoint) {
        return switch (endpoint) {
            case Endpoint.UnixPath unix -> unix.path();
            case Endpoint.HybridVsock hybrid -> hybrid.path();
            case Endpoint.AbstractUnix ignored -> null;
            case Endpoint.Vsock ignored -> null;
        };
    }

    static SocketAddress address(Endpoint endpoint) {
        return switch (endpoint) {
            case Endpoint.UnixPath unix -> new DomainSocketAddress(unix.path().toString());
            case Endpoint.HybridVsock hybrid -> new DomainSocketAddress(hybrid.path().toString());
            // Linux names abstract sockets by a leading NUL byte.
            case Endpoint.AbstractUnix abs -> new DomainSocketAddress("\0" + abs.name());
            case Endpoint.Vsock vsock -> new VSockAddress(vsock.cid(), vsock.port());
        };
    }
}
