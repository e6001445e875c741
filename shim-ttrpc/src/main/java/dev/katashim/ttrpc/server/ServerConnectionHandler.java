package dev.katashim.ttrpc.server;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.katashim.protocols.ttrpc.Request;
import dev.katashim.protocols.ttrpc.Response;
import dev.katashim.ttrpc.frame.ConnectionErrors;
import dev.katashim.ttrpc.frame.Frame;
import dev.katashim.ttrpc.frame.FrameType;
import dev.katashim.ttrpc.frame.OversizedFrame;
import dev.katashim.ttrpc.frame.UnknownFrame;
import dev.katashim.ttrpc.observe.CallObserver;
import dev.katashim.ttrpc.observe.CompletedCall;
import dev.katashim.ttrpc.status.StatusCode;
import dev.katashim.ttrpc.status.TtrpcException;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One client connection on the server side: checks each incoming frame, hands requests to
 * virtual threads, writes their responses, and enforces deadlines. The event loop runs only the
 * handlers registered as non-blocking (answers from memory, such as a task's State): for them the
 * two hand-offs, to a thread and back to the loop for the write, cost more than the call itself.
 */
final class ServerConnectionHandler extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(ServerConnectionHandler.class);

    private final CallDispatcher dispatcher;
    private final CallObserver observer;
    private final ExecutorService handlers;
    private final InFlight inFlight;
    private final ConcurrentHashMap<Integer, Call> calls = new ConcurrentHashMap<>();

    ServerConnectionHandler(CallDispatcher dispatcher, CallObserver observer, ExecutorService handlers, InFlight inFlight) {
        this.dispatcher = dispatcher;
        this.observer = observer;
        this.handlers = handlers;
        this.inFlight = inFlight;
    }

    /** One call in progress: answered exactly once, by its handler or by its deadline. */
    private final class Call {
        final int streamId;
        final String service;
        final String method;
        final long startNanos = System.nanoTime();
        final AtomicBoolean answered = new AtomicBoolean();
        volatile Thread worker;
        volatile ScheduledFuture<?> deadline;

        Call(int streamId, String service, String method) {
            this.streamId = streamId;
            this.service = service;
            this.method = method;
        }

        void answer(Channel channel, Response response) {
            if (!answered.compareAndSet(false, true)) {
                return;
            }
            ScheduledFuture<?> timer = deadline;
            if (timer != null) {
                timer.cancel(false);
            }
            calls.remove(streamId, this);
            byte[] bytes = response.toByteArray();
            if (bytes.length > Frame.MAX_DATA_LENGTH) {
                response = CallDispatcher.failure(TtrpcException.of(StatusCode.RESOURCE_EXHAUSTED,
                        "ttrpc: response of %d bytes exceeds the maximum message size of %d", bytes.length, Frame.MAX_DATA_LENGTH));
                bytes = response.toByteArray();
            }
            observer.completed(new CompletedCall(service, method, System.nanoTime() - startNanos,
                    StatusCode.fromNumber(response.getStatus().getCode())));
            // The call is over once its answer has left (or cannot leave): a graceful shutdown that
            // closed the connection earlier would drop an answer larger than the socket's buffer.
            channel.writeAndFlush(new Frame(streamId, FrameType.RESPONSE, 0, Unpooled.wrappedBuffer(bytes)))
                    .addListener(written -> inFlight.leave());
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        switch (msg) {
            case Frame frame -> {
                try {
                    onFrame(ctx, frame);
                } finally {
                    frame.release();
                }
            }
            case OversizedFrame oversized -> rejectStream(ctx, oversized.streamId(), "", "",
                    TtrpcException.of(StatusCode.RESOURCE_EXHAUSTED, "ttrpc: message length %d exceeds the maximum message size of %d",
                            oversized.announcedLength(), Frame.MAX_DATA_LENGTH));
            case UnknownFrame unknown -> {
                log.warn("ttrpc: closing {}: frame of unknown type {} on stream {}", ctx.channel().remoteAddress(),
                        unknown.rawType(), Integer.toUnsignedString(unknown.streamId()));
                ctx.close();
            }
            default -> ctx.fireChannelRead(msg);
        }
    }

    private void onFrame(ChannelHandlerContext ctx, Frame frame) {
        switch (frame.type()) {
            case REQUEST -> onRequest(ctx, frame);
            case DATA -> {
                // Every method served here is unary: data is not allowed on a unary stream.
                Call call = calls.get(frame.streamId());
                if (call != null) {
                    TtrpcException e = TtrpcException.of(StatusCode.UNIMPLEMENTED,
                            "ttrpc: %s/%s does not take streamed data", call.service, call.method);
                    call.answer(ctx.channel(), CallDispatcher.failure(e));
                }
            }
            case RESPONSE -> {
                log.warn("ttrpc: closing {}: a client sent a response frame (stream {})",
                        ctx.channel().remoteAddress(), Integer.toUnsignedString(frame.streamId()));
                ctx.close();
            }
        }
    }

    private void onRequest(ChannelHandlerContext ctx, Frame frame) {
        int streamId = frame.streamId();
        if ((streamId & 1) == 0) {
            rejectStream(ctx, streamId, "", "", new TtrpcException(StatusCode.INVALID_ARGUMENT,
                    "ttrpc: stream id " + Integer.toUnsignedString(streamId) + " must be odd for client-initiated streams"));
            return;
        }
        if (calls.containsKey(streamId)) {
            // Ids need not arrive in order (a Go client's concurrent calls race to the socket), but a
            // stream still in flight cannot be opened again.
            rejectStream(ctx, streamId, "", "", new TtrpcException(StatusCode.INVALID_ARGUMENT,
                    "ttrpc: stream id " + Integer.toUnsignedString(streamId) + " is already in use"));
            return;
        }
        Request request;
        try {
            request = Request.parseFrom(ByteBufUtil.getBytes(frame.data()));
        } catch (InvalidProtocolBufferException e) {
            rejectStream(ctx, streamId, "", "", new TtrpcException(StatusCode.INVALID_ARGUMENT,
                    "ttrpc: cannot decode the request envelope: " + e.getMessage()));
            return;
        }
        if (!inFlight.tryEnter()) {
            rejectStream(ctx, streamId, request.getService(), request.getMethod(),
                    new TtrpcException(StatusCode.UNAVAILABLE, "ttrpc: server is shutting down"));
            return;
        }
        Call call = new Call(streamId, request.getService(), request.getMethod());
        calls.put(streamId, call);
        if (dispatcher.nonBlocking(request)) {
            call.answer(ctx.channel(), dispatcher.dispatch(request, 0)); // done before any deadline could pass
            return;
        }
        long deadline = 0;
        if (request.getTimeoutNano() > 0) {
            deadline = call.startNanos + request.getTimeoutNano();
            call.deadline = ctx.executor().schedule(() -> expire(ctx.channel(), call, request.getTimeoutNano()),
                    request.getTimeoutNano(), TimeUnit.NANOSECONDS);
        }
        long deadlineNanoTime = deadline;
        Channel channel = ctx.channel();
        handlers.execute(() -> {
            call.worker = Thread.currentThread();
            try {
                if (!call.answered.get()) {
                    call.answer(channel, dispatcher.dispatch(request, deadlineNanoTime));
                }
            } finally {
                call.worker = null;
                Thread.interrupted(); // a late deadline interrupt must not leak into the next task
            }
        });
    }

    private void expire(Channel channel, Call call, long timeoutNanos) {
        call.answer(channel, CallDispatcher.failure(TtrpcException.of(StatusCode.DEADLINE_EXCEEDED,
                "ttrpc: %s/%s exceeded its deadline of %d ms", call.service, call.method,
                TimeUnit.NANOSECONDS.toMillis(timeoutNanos))));
        Thread worker = call.worker;
        if (worker != null) {
            worker.interrupt();
        }
    }

    /** Answers a stream that never reached a handler; it still counts as a call for observers. */
    private void rejectStream(ChannelHandlerContext ctx, int streamId, String service, String method, TtrpcException e) {
        Response response = CallDispatcher.failure(e);
        ctx.writeAndFlush(new Frame(streamId, FrameType.RESPONSE, 0, Unpooled.wrappedBuffer(response.toByteArray())));
        observer.completed(new CompletedCall(service, method, 0, e.code()));
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        // A client that sends but does not read: stop reading its requests until it drains its responses.
        ctx.channel().config().setAutoRead(ctx.channel().isWritable());
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        // The caller is gone: cancel what it was waiting for.
        for (Call call : calls.values()) {
            if (call.answered.compareAndSet(false, true)) {
                ScheduledFuture<?> timer = call.deadline;
                if (timer != null) {
                    timer.cancel(false);
                }
                Thread worker = call.worker;
                if (worker != null) {
                    worker.interrupt();
                }
                observer.completed(new CompletedCall(call.service, call.method, System.nanoTime() - call.startNanos, StatusCode.CANCELLED));
                inFlight.leave();
            }
        }
        calls.clear();
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ConnectionErrors.close(ctx, cause, log);
    }
}
