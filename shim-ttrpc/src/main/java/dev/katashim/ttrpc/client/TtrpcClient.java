package dev.katashim.ttrpc.client;

import dev.katashim.sys.ProcessEventLoop;
import com.google.protobuf.MessageLite;
import com.google.protobuf.Parser;
import dev.katashim.protocols.ttrpc.Request;
import dev.katashim.ttrpc.frame.Frame;
import dev.katashim.ttrpc.frame.FrameDecoder;
import dev.katashim.ttrpc.frame.FrameEncoder;
import dev.katashim.ttrpc.frame.FrameType;
import dev.katashim.ttrpc.observe.CallObserver;
import dev.katashim.ttrpc.status.StatusCode;
import dev.katashim.ttrpc.status.TtrpcException;
import dev.katashim.ttrpc.transport.Endpoint;
import dev.katashim.ttrpc.transport.Transports;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.flush.FlushConsolidationHandler;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A ttrpc client on one connection. Calls are multiplexed by odd stream ids and may be issued
 * from any number of threads at once; each gets its own deadline.
 * Pipeline: {@code FrameDecoder → FrameEncoder → ClientConnectionHandler}.
 */
public final class TtrpcClient implements AutoCloseable {
    private final Channel channel;
    private final PendingCalls pending;
    private final Endpoint endpoint;
    private final AtomicInteger nextStreamId = new AtomicInteger(1);

    private TtrpcClient(Channel channel, PendingCalls pending, Endpoint endpoint) {
        this.channel = channel;
        this.pending = pending;
        this.endpoint = endpoint;
    }

    public static Builder builder(Endpoint endpoint) {
        return new Builder(endpoint);
    }

    public static TtrpcClient connect(Endpoint endpoint) throws IOException {
        return builder(endpoint).connect();
    }

    public Endpoint endpoint() {
        return endpoint;
    }

    /** Sends one unary call; the future fails with a {@link TtrpcException} carrying the status. */
    public <T extends MessageLite> CompletableFuture<T> call(String service, String method, MessageLite request,
                                                            Parser<T> responseParser, CallOptions options) {
        PendingCalls.Pending<T> call = new PendingCalls.Pending<>(service, method, responseParser);
        int streamId = nextStreamId.getAndAdd(2);
        Request.Builder envelope = Request.newBuilder()
                .setService(service)
                .setMethod(method)
                .setPayload(request.toByteString())
                .addAllMetadata(options.metadata());
        if (options.timeout() != null) {
            envelope.setTimeoutNano(options.timeout().toNanos());
        }
        byte[] bytes = envelope.build().toByteArray();
        if (bytes.length > Frame.MAX_DATA_LENGTH) {
            call.future.completeExceptionally(TtrpcException.of(StatusCode.RESOURCE_EXHAUSTED,
                    "ttrpc: %s/%s request of %d bytes exceeds the maximum message size of %d",
                    service, method, bytes.length, Frame.MAX_DATA_LENGTH));
            return call.future;
        }
        if (!pending.add(streamId, call)) {
            pending.expire(streamId, call, new TtrpcException(StatusCode.UNAVAILABLE, "ttrpc: closed"));
            call.future.completeExceptionally(new TtrpcException(StatusCode.UNAVAILABLE, "ttrpc: closed"));
            return call.future;
        }
        if (options.timeout() != null) {
            long millis = options.timeout().toMillis();
            call.deadline = channel.eventLoop().schedule(() -> pending.expire(streamId, call,
                    TtrpcException.of(StatusCode.DEADLINE_EXCEEDED, "ttrpc: %s/%s timed out after %d ms", service, method, millis)),
                    options.timeout().toNanos(), TimeUnit.NANOSECONDS);
        }
        channel.writeAndFlush(new Frame(streamId, FrameType.REQUEST, 0, Unpooled.wrappedBuffer(bytes)))
                .addListener(written -> {
                    if (!written.isSuccess()) {
                        pending.fail(streamId, new TtrpcException(StatusCode.UNAVAILABLE,
                                "ttrpc: cannot send " + service + "/" + method + ": " + written.cause().getMessage()));
                    }
                });
        return call.future;
    }

    /** {@link #call} that waits for the answer and throws the failure as a {@link TtrpcException}. */
    public <T extends MessageLite> T blockingCall(String service, String method, MessageLite request,
                                                  Parser<T> responseParser, CallOptions options) throws InterruptedException {
        try {
            return call(service, method, request, responseParser, options).get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof TtrpcException t) {
                throw new TtrpcException(t.code(), t.getMessage(), t);
            }
            throw new TtrpcException(StatusCode.UNKNOWN, String.valueOf(e.getCause()), e.getCause());
        }
    }

    public boolean isOpen() {
        return channel.isActive();
    }

    /** Completes when the connection closes, for whatever reason. */
    public CompletableFuture<Void> closeFuture() {
        CompletableFuture<Void> closed = new CompletableFuture<>();
        channel.closeFuture().addListener(f -> closed.complete(null));
        return closed;
    }

    public int pendingCalls() {
        return pending.size();
    }

    @Override
    public void close() {
        channel.close().syncUninterruptibly();
    }

    public static final class Builder {
        private final Endpoint endpoint;
        private final List<CallObserver> observers = new ArrayList<>();
        private EventLoopGroup group;
        private Duration connectTimeout = Duration.ofSeconds(5);

        private Builder(Endpoint endpoint) {
            this.endpoint = endpoint;
        }

        /** Sees (service, method, duration, status) of every call this client makes. */
        public Builder observer(CallObserver observer) {
            observers.add(observer);
            return this;
        }

        public Builder eventLoops(EventLoopGroup group) {
            this.group = group;
            return this;
        }

        public Builder connectTimeout(Duration timeout) {
            this.connectTimeout = timeout;
            return this;
        }

        public TtrpcClient connect() throws IOException {
            PendingCalls pending = new PendingCalls(CallObserver.all(observers));
            Channel channel = Transports.connect(endpoint, group == null ? ProcessEventLoop.group() : group,
                    new ChannelInitializer<>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            ch.pipeline().addLast(
                                    new FlushConsolidationHandler(256, true),
                                    new FrameDecoder(),
                                    FrameEncoder.INSTANCE,
                                    new ClientConnectionHandler(pending));
                        }
                    }, connectTimeout);
            return new TtrpcClient(channel, pending, endpoint);
        }
    }
}
