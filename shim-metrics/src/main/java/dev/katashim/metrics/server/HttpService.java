package dev.katashim.metrics.server;

import dev.katashim.sys.ProcessEventLoop;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.handler.codec.compression.StandardCompressionOptions;
import io.netty.handler.codec.http.HttpContentCompressor;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.GlobalEventExecutor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A small HTTP/1.1 server on Netty (epoll), for a unix socket or TCP. Pipeline per connection:
 * {@code IdleStateHandler → HttpServerCodec → [HttpContentCompressor] → HttpObjectAggregator →
 * HttpConnectionHandler} (the compressor where gzip is wanted: the node monitor's TCP port); the
 * handler answers on a virtual thread, one request at a time per connection (pipelined requests
 * wait their turn, in order). Limits: request line {@value #MAX_REQUEST_LINE} bytes (longer: 400 and
 * the rest of the input is discarded, never buffered), headers {@value #MAX_HEADERS} bytes (431),
 * body {@value #MAX_BODY} bytes (413, in its turn), {@value #MAX_PIPELINED} requests waiting on one
 * connection (more: 503 in turn), idle connections closed after 60 s. Each refusal closes the connection.
 */
public final class HttpService implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(HttpService.class);
    static final int MAX_REQUEST_LINE = 8192;
    static final int MAX_HEADERS = 16384;
    static final int MAX_BODY = 65536;
    /**
     * Requests of one connection waiting for their answer. The connection stops reading while one
     * is answered, so only what one read brought can wait (in practice under ~60,000 even of the
     * smallest requests): this bound is a backstop.
     */
    static final int MAX_PIPELINED = 100_000;
    private static final int IDLE_SECONDS = 60;
    /** Answers smaller than this are sent as they are even to a gzip client. */
    private static final int GZIP_MIN_BYTES = 1024;

    /** Answers one request; runs on a virtual thread, may block. */
    @FunctionalInterface
    public interface Handler {
        HttpAnswer handle(HttpRequestLine request) throws Exception;
    }

    private final Channel listener;
    private final ChannelGroup connections;
    private final ExecutorService handlers;
    private final HttpConnectionHandler.State state;
    private final AtomicBoolean closed = new AtomicBoolean();

    private HttpService(Channel listener, ChannelGroup connections, ExecutorService handlers, HttpConnectionHandler.State state) {
        this.listener = listener;
        this.connections = connections;
        this.handlers = handlers;
        this.state = state;
    }

    /** Serves on a unix socket at {@code address} (the caller prepares the file). */
    public static HttpService unix(DomainSocketAddress address, String name, Handler handler) throws IOException {
        return bind(EpollServerDomainSocketChannel.class, address, name, handler);
    }

    /** Serves on TCP. */
    public static HttpService tcp(InetSocketAddress address, String name, Handler handler) throws IOException {
        return tcp(address, name, handler, false);
    }

    /** Serves on TCP; {@code gzip}: answers are compressed for clients whose Accept-Encoding asks for it. */
    public static HttpService tcp(InetSocketAddress address, String name, Handler handler, boolean gzip) throws IOException {
        return bind(EpollServerSocketChannel.class, address, name, handler, gzip);
    }

    private static HttpService bind(Class<? extends ServerChannel> type, SocketAddress address, String name, Handler handler)
            throws IOException {
        return bind(type, address, name, handler, false);
    }

    private static HttpService bind(Class<? extends ServerChannel> type, SocketAddress address, String name, Handler handler,
                                    boolean gzip) throws IOException {
        ChannelGroup connections = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
        ExecutorService handlers = Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name(name + "-", 0).factory());
        HttpConnectionHandler.State state = new HttpConnectionHandler.State(handler, handlers);
        ChannelFuture bound = new ServerBootstrap()
                .group(ProcessEventLoop.group())
                .channel(type)
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        connections.add(ch);
                        ch.pipeline().addLast(
                                new IdleStateHandler(0, 0, IDLE_SECONDS, TimeUnit.SECONDS),
                                // pipelining is bounded by HttpConnectionHandler (MAX_PIPELINED), not by
                                // the codec, which would close the connection without an answer
                                new HttpServerCodec(new HttpDecoderConfig()
                                        .setMaxInitialLineLength(MAX_REQUEST_LINE)
                                        .setMaxHeaderSize(MAX_HEADERS), Integer.MAX_VALUE));
                        if (gzip) {
                            // reads each request's Accept-Encoding, compresses its answer (not tiny ones)
                            ch.pipeline().addLast(new HttpContentCompressor(GZIP_MIN_BYTES, StandardCompressionOptions.gzip()));
                        }
                        ch.pipeline().addLast(new InTurnAggregator(MAX_BODY), new HttpConnectionHandler(state));
                    }
                })
                .bind(address).awaitUninterruptibly();
        if (!bound.isSuccess()) {
            handlers.shutdownNow();
            throw new IOException("cannot listen on " + address + ": " + bound.cause().getMessage(), bound.cause());
        }
        return new HttpService(bound.channel(), connections, handlers, state);
    }

    public SocketAddress localAddress() {
        return listener.localAddress();
    }

    /** Requests being answered now. */
    public int inFlight() {
        return state.inFlight();
    }

    /**
     * Stops listening; requests that arrive on open connections from now on get 503; requests being
     * answered get up to {@code grace} to finish; then every connection is closed.
     */
    public void close(Duration grace) {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        state.shutDown();
        listener.close().awaitUninterruptibly();
        long deadline = System.nanoTime() + grace.toNanos();
        while (state.inFlight() > 0 && System.nanoTime() < deadline) {
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        if (state.inFlight() > 0) {
            log.warn("{} request(s) still running after {} ms: their connections are closed", state.inFlight(), grace.toMillis());
        }
        connections.close().awaitUninterruptibly();
        handlers.shutdownNow();
    }

    @Override
    public void close() {
        close(Duration.ofSeconds(3));
    }
}
