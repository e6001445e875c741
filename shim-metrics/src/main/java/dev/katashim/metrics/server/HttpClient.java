package dev.katashim.metrics.server;

import dev.katashim.sys.ProcessEventLoop;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpVersion;

import java.io.IOException;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One-shot HTTP GETs over a unix socket (a shim's management socket) or TCP, with a deadline for
 * the whole exchange and a cap on the answer's size. Understands what Go's server sends (chunked
 * bodies included), so it reads upstream's shims too.
 */
public final class HttpClient {
    /** Answers larger than this are refused (a shim's metrics are tens of KiB). */
    public static final int MAX_BODY = 32 << 20;

    /** A complete answer. */
    public record Response(int status, String contentType, String body) {
    }

    private HttpClient() {
    }

    /** GET {@code path} on the unix socket {@code socket}. */
    public static CompletableFuture<Response> get(Path socket, String path, String accept, Duration timeout) {
        return get(new DomainSocketAddress(socket.toString()), true, path, accept, timeout);
    }

    /** GET {@code path} at {@code address} (TCP, or a {@link DomainSocketAddress} with {@code unix}). */
    public static CompletableFuture<Response> get(SocketAddress address, boolean unix, String path, String accept, Duration timeout) {
        CompletableFuture<Response> result = new CompletableFuture<>();
        Bootstrap bootstrap = new Bootstrap()
                .group(ProcessEventLoop.group())
                .channel(unix ? EpollDomainSocketChannel.class : EpollSocketChannel.class)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.max(1, Math.min(Integer.MAX_VALUE, timeout.toMillis())))
                .handler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new HttpClientCodec(), new HttpObjectAggregator(MAX_BODY),
                                new SimpleChannelInboundHandler<FullHttpResponse>() {
                                    @Override
                                    protected void channelRead0(ChannelHandlerContext ctx, FullHttpResponse response) {
                                        if (response.decoderResult().isFailure()) {
                                            result.completeExceptionally(new IOException("malformed answer from " + address + ": "
                                                    + response.decoderResult().cause().getMessage()));
                                        } else {
                                            result.complete(new Response(response.status().code(),
                                                    response.headers().get(HttpHeaderNames.CONTENT_TYPE, ""),
                                                    response.content().toString(StandardCharsets.UTF_8)));
                                        }
                                        ctx.close();
                                    }

                                    @Override
                                    public void channelInactive(ChannelHandlerContext ctx) {
                                        result.completeExceptionally(new IOException(address + " closed the connection without an answer"));
                                    }

                                    @Override
                                    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                                        result.completeExceptionally(new IOException(address + ": " + cause.getMessage(), cause));
                                        ctx.close();
                                    }
                                });
                    }
                });
        ChannelFuture connecting = bootstrap.connect(address);
        Channel channel = connecting.channel();
        connecting.addListener(f -> {
            if (!f.isSuccess()) {
                result.completeExceptionally(new IOException("cannot connect to " + address + ": " + f.cause().getMessage(), f.cause()));
                return;
            }
            FullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, path);
            request.headers().set(HttpHeaderNames.HOST, "localhost");
            request.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            if (accept != null) {
                request.headers().set(HttpHeaderNames.ACCEPT, accept);
            }
            channel.writeAndFlush(request);
        });
        ProcessEventLoop.group().schedule(() -> {
            if (result.completeExceptionally(new TimeoutException("no answer from " + address + " within " + timeout.toMillis() + " ms"))) {
                channel.close();
            }
        }, timeout.toNanos(), TimeUnit.NANOSECONDS);
        result.whenComplete((r, e) -> channel.close());
        return result;
    }

    /** The blocking form: the answer, or an IOException saying why there is none. */
    public static Response getBlocking(Path socket, String path, String accept, Duration timeout) throws IOException, InterruptedException {
        try {
            return get(socket, path, accept, timeout).get(timeout.toMillis() + 1000, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            throw cause instanceof IOException io ? io : new IOException(cause.getMessage(), cause);
        } catch (TimeoutException e) {
            throw new IOException("no answer on " + socket + " within " + timeout.toMillis() + " ms", e);
        }
    }
}
