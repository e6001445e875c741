package dev.katashim.metrics.server;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One connection's requests: each is copied out of its buffer at once (released on the event
 * loop), answered on a virtual thread, and answered in order. While one is answered the connection
 * reads no more, so a client cannot queue unboundedly.
 */
final class HttpConnectionHandler extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(HttpConnectionHandler.class);

    /** Shared by every connection of one server. */
    static final class State {
        final HttpService.Handler handler;
        final ExecutorService executor;
        final AtomicInteger inFlight = new AtomicInteger();
        volatile boolean shuttingDown;

        State(HttpService.Handler handler, ExecutorService executor) {
            this.handler = handler;
            this.executor = executor;
        }

        int inFlight() {
            return inFlight.get();
        }

        void shutDown() {
            shuttingDown = true;
        }
    }

    private record Pending(HttpRequestLine request, boolean keepAlive, HttpAnswer immediate) {
    }

    private final State state;
    private final ArrayDeque<Pending> queue = new ArrayDeque<>();
    private boolean busy;
    /** A refusal is queued: what arrives after it is dropped, as the connection closes once it is sent. */
    private boolean refusing;

    HttpConnectionHandler(State state) {
        this.state = state;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (refusing) {
            ReferenceCountUtil.release(msg); // a refusal is queued: the connection ends after it
            return;
        }
        Pending pending;
        if (msg instanceof InTurnAggregator.OversizedRequest) {
            pending = new Pending(null, false, HttpAnswer.text(413, "request body too large (limit " + HttpService.MAX_BODY + " bytes)\n"));
        } else if (!(msg instanceof FullHttpRequest request)) {
            ReferenceCountUtil.release(msg);
            return;
        } else {
            try {
                pending = queue.size() >= HttpService.MAX_PIPELINED
                        ? new Pending(null, false, HttpAnswer.text(503, "more than " + HttpService.MAX_PIPELINED
                                + " requests waiting on this connection\n"))
                        : pending(request);
            } finally {
                request.release();
            }
        }
        refusing = pending.immediate() != null;
        queue.add(pending);
        if (!busy) {
            next(ctx);
        }
    }

    private static Pending pending(FullHttpRequest request) {
        DecoderResult result = request.decoderResult();
        if (result.isFailure()) {
            Throwable cause = result.cause();
            HttpAnswer answer = cause instanceof TooLongHttpLineException
                    ? HttpAnswer.text(400, "request line too long (limit " + HttpService.MAX_REQUEST_LINE + " bytes)\n")
                    : cause instanceof TooLongHttpHeaderException
                    ? HttpAnswer.text(431, "request headers too large (limit " + HttpService.MAX_HEADERS + " bytes)\n")
                    : HttpAnswer.text(400, "malformed request: " + cause.getMessage() + "\n");
            return new Pending(null, false, answer);
        }
        String uri = request.uri();
        int question = uri.indexOf('?');
        String path = question < 0 ? uri : uri.substring(0, question);
        String query = question < 0 ? "" : uri.substring(question + 1);
        return new Pending(new HttpRequestLine(request.method().name(), path, query,
                request.headers().get(HttpHeaderNames.ACCEPT)), HttpUtil.isKeepAlive(request), null);
    }

    private void next(ChannelHandlerContext ctx) {
        Pending pending = queue.poll();
        if (pending == null) {
            busy = false;
            ctx.channel().config().setAutoRead(true);
            return;
        }
        busy = true;
        ctx.channel().config().setAutoRead(false);
        if (pending.immediate() != null) {
            respond(ctx, pending.immediate(), false);
            return;
        }
        if (state.shuttingDown) {
            respond(ctx, HttpAnswer.text(503, "shutting down\n"), false);
            return;
        }
        state.inFlight.incrementAndGet();
        try {
            state.executor.execute(() -> {
                HttpAnswer answer;
                try {
                    answer = state.handler.handle(pending.request());
                } catch (Throwable e) {
                    log.warn("{} {} failed", pending.request().method(), pending.request().path(), e);
                    answer = HttpAnswer.text(500, "internal error: " + e + "\n");
                } finally {
                    state.inFlight.decrementAndGet();
                }
                HttpAnswer done = answer;
                ctx.executor().execute(() -> respond(ctx, done, pending.keepAlive() && !state.shuttingDown));
            });
        } catch (RejectedExecutionException e) {
            state.inFlight.decrementAndGet();
            respond(ctx, HttpAnswer.text(503, "shutting down\n"), false);
        }
    }

    private void respond(ChannelHandlerContext ctx, HttpAnswer answer, boolean keepAlive) {
        if (!ctx.channel().isActive()) {
            queue.clear();
            return;
        }
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(answer.status()),
                Unpooled.wrappedBuffer(answer.body()));
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, answer.contentType());
        response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, answer.body().length);
        if (answer.allow() != null) {
            response.headers().set(HttpHeaderNames.ALLOW, answer.allow());
        }
        response.headers().set(HttpHeaderNames.CONNECTION, keepAlive ? HttpHeaderValues.KEEP_ALIVE : HttpHeaderValues.CLOSE);
        if (keepAlive) {
            ctx.writeAndFlush(response).addListener((ChannelFutureListener) f -> {
                if (f.isSuccess()) {
                    next(ctx);
                } else {
                    ctx.close();
                }
            });
        } else {
            queue.clear();
            ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof IdleStateEvent) {
            ctx.close();
        } else {
            ctx.fireUserEventTriggered(evt);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("connection {}: {}", ctx.channel(), cause.toString());
        ctx.close();
    }
}
