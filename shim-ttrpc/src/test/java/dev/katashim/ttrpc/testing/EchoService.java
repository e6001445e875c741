package dev.katashim.ttrpc.testing;

import com.google.protobuf.Empty;
import com.google.protobuf.Int32Value;
import com.google.protobuf.Int64Value;
import com.google.protobuf.StringValue;
import dev.katashim.ttrpc.server.ServiceDefinition;
import dev.katashim.ttrpc.status.StatusCode;
import dev.katashim.ttrpc.status.TtrpcException;

import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

/** A small service for exercising the ttrpc stack: echo, sleep, fail with a chosen code, show metadata and the handler's thread. */
public final class EchoService {
    public static final String NAME = "katashim.test.Echo";

    public final AtomicInteger interrupted = new AtomicInteger();
    public final CountDownLatch sleeping = new CountDownLatch(1);

    public ServiceDefinition definition() {
        return ServiceDefinition.builder(NAME)
                .unary("Echo", StringValue.parser(), (request, ctx) -> request)
                .unary("Sleep", Int64Value.parser(), (request, ctx) -> {
                    sleeping.countDown();
                    try {
                        Thread.sleep(request.getValue());
                    } catch (InterruptedException e) {
                        interrupted.incrementAndGet();
                        throw e;
                    }
                    return Empty.getDefaultInstance();
                })
                .unary("Fail", Int32Value.parser(), (request, ctx) -> {
                    if (request.getValue() < 0) {
                        throw new IllegalStateException("handler bug " + request.getValue());
                    }
                    throw new TtrpcException(StatusCode.fromNumber(request.getValue()), "failed as asked");
                })
                .unary("Metadata", Empty.parser(), (request, ctx) ->
                        StringValue.of(new TreeMap<>(ctx.metadata()).toString()))
                // the thread that ran the handler: "virtual", or the platform thread's name
                .unary("Where", Empty.parser(), (request, ctx) -> StringValue.of(where()))
                .unaryNonBlocking("WhereNonBlocking", Empty.parser(), (request, ctx) -> StringValue.of(where()))
                .unaryNonBlocking("FailNonBlocking", Int32Value.parser(), (request, ctx) -> {
                    throw new TtrpcException(StatusCode.fromNumber(request.getValue()), "failed as asked, on the event loop");
                })
                .unary("Deadline", Empty.parser(), (request, ctx) ->
                        Int64Value.of(ctx.hasDeadline() ? ctx.deadlineNanoTime() - System.nanoTime() : -1))
                .build();
    }

    private static String where() {
        return Thread.currentThread().isVirtual() ? "virtual" : Thread.currentThread().getName();
    }
}
