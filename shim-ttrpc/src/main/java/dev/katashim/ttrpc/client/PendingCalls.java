package dev.katashim.ttrpc.client;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageLite;
import com.google.protobuf.Parser;
import dev.katashim.protocols.ttrpc.Response;
import dev.katashim.ttrpc.observe.CallObserver;
import dev.katashim.ttrpc.observe.CompletedCall;
import dev.katashim.ttrpc.status.StatusCode;
import dev.katashim.ttrpc.status.TtrpcException;
import io.netty.buffer.ByteBuf;
import io.netty.util.concurrent.ScheduledFuture;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

/** The calls of one connection that await their response, by stream id. */
final class PendingCalls {
    private final ConcurrentHashMap<Integer, Pending<?>> byStream = new ConcurrentHashMap<>();
    private final CallObserver observer;
    private final AtomicBoolean closed = new AtomicBoolean();

    PendingCalls(CallObserver observer) {
        this.observer = observer;
    }

    static final class Pending<T extends MessageLite> {
        final String service;
        final String method;
        final Parser<T> parser;
        final CompletableFuture<T> future = new CompletableFuture<>();
        final long startNanos = System.nanoTime();
        volatile ScheduledFuture<?> deadline;

        Pending(String service, String method, Parser<T> parser) {
            this.service = service;
            this.method = method;
            this.parser = parser;
        }
    }

    /** Registers a call; false once the connection is closed. */
    boolean add(int streamId, Pending<?> call) {
        byStream.put(streamId, call);
        if (closed.get()) {
            byStream.remove(streamId);
            return false;
        }
        return true;
    }

    void complete(int streamId, ByteBuf data) {
        Pending<?> call = byStream.remove(streamId);
        if (call != null) {
            deliver(call, data);
        }
    }

    private <T extends MessageLite> void deliver(Pending<T> call, ByteBuf data) {
        try {
            byte[] bytes = new byte[data.readableBytes()];
            data.readBytes(bytes);
            Response response = Response.parseFrom(bytes);
            if (response.hasStatus() && response.getStatus().getCode() != 0) {
                finish(call, failure(call, response.getStatus()));
                return;
            }
            T value = call.parser.parseFrom(response.getPayload());
            cancelTimer(call);
            observer.completed(new CompletedCall(call.service, call.method, System.nanoTime() - call.startNanos, StatusCode.OK));
            call.future.complete(value);
        } catch (InvalidProtocolBufferException e) {
            finish(call, new TtrpcException(StatusCode.INTERNAL, "ttrpc: cannot decode the " + call.service + "/"
                    + call.method + " response: " + e.getMessage()));
        }
    }

    /** The peer's error; one without a message (a peer may send that) still says what failed. */
    private static TtrpcException failure(Pending<?> call, dev.katashim.protocols.rpc.Status status) {
        StatusCode code = StatusCode.fromNumber(status.getCode());
        String message = status.getMessage();
        if (message.isBlank()) {
            message = "ttrpc: " + call.service + "/" + call.method + " failed with status " + code
                    + (code.number() == status.getCode() ? "" : " (code " + status.getCode() + ")") + " and no message";
        }
        return new TtrpcException(code, message);
    }

    void fail(int streamId, TtrpcException error) {
        Pending<?> call = byStream.remove(streamId);
        if (call != null) {
            finish(call, error);
        }
    }

    /** Fails {@code call} unless it already finished (a response and its deadline may race). */
    void expire(int streamId, Pending<?> call, TtrpcException error) {
        if (byStream.remove(streamId, call)) {
            finish(call, error);
        }
    }

    void failAll(TtrpcException error) {
        closed.set(true);
        for (Integer streamId : byStream.keySet()) {
            fail(streamId, error);
        }
    }

    int size() {
        return byStream.size();
    }

    private void finish(Pending<?> call, TtrpcException error) {
        cancelTimer(call);
        observer.completed(new CompletedCall(call.service, call.method, System.nanoTime() - call.startNanos, error.code()));
        call.future.completeExceptionally(error);
    }

    private static void cancelTimer(Pending<?> call) {
        ScheduledFuture<?> timer = call.deadline;
        if (timer != null) {
            timer.cancel(false);
        }
    }
}
