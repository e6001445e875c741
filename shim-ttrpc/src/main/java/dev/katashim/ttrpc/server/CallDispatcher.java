package dev.katashim.ttrpc.server;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageLite;
import dev.katashim.protocols.rpc.Status;
import dev.katashim.protocols.ttrpc.KeyValue;
import dev.katashim.protocols.ttrpc.Request;
import dev.katashim.protocols.ttrpc.Response;
import dev.katashim.ttrpc.status.StatusCode;
import dev.katashim.ttrpc.status.TtrpcException;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Routes a decoded ttrpc {@link Request} to its method and turns the outcome into a
 * {@link Response}. It knows nothing of channels, so a Netty socket and a plain character
 * device (virtio-serial in a guest) can share it.
 */
public final class CallDispatcher {
    private static final Status OK = Status.newBuilder().setCode(0).build();

    private final Map<String, ServiceDefinition> services;

    public CallDispatcher(List<ServiceDefinition> services) {
        Map<String, ServiceDefinition> byName = new HashMap<>();
        for (ServiceDefinition service : services) {
            if (byName.putIfAbsent(service.name(), service) != null) {
                throw new IllegalArgumentException("service " + service.name() + " is registered twice");
            }
        }
        this.services = Map.copyOf(byName);
    }

    /** Runs the call on the current thread; never throws, every failure becomes a status. */
    public Response dispatch(Request request, long deadlineNanoTime) {
        try {
            MethodDefinition<?, ?> method = lookup(request.getService(), request.getMethod());
            CallContext context = new CallContext(request.getService(), request.getMethod(),
                    metadata(request.getMetadataList()), deadlineNanoTime);
            MessageLite result = method.invoke(request.getPayload().toByteArray(), context);
            return Response.newBuilder().setStatus(OK).setPayload(result.toByteString()).build();
        } catch (InvalidProtocolBufferException e) {
            return failure(new TtrpcException(StatusCode.INVALID_ARGUMENT, "ttrpc: cannot decode the "
                    + request.getService() + "/" + request.getMethod() + " request: " + e.getMessage()));
        } catch (TtrpcException e) {
            return failure(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return failure(new TtrpcException(StatusCode.CANCELLED, "ttrpc: call cancelled"));
        } catch (Exception | StackOverflowError e) {
            return failure(new TtrpcException(StatusCode.UNKNOWN, String.valueOf(e.getMessage() == null ? e : e.getMessage())));
        }
    }

    /** Whether the request's method is registered as non-blocking (an unknown one is not: its failure is cheap anyway). */
    public boolean nonBlocking(Request request) {
        ServiceDefinition service = services.get(request.getService());
        MethodDefinition<?, ?> method = service == null ? null : service.methods().get(request.getMethod());
        return method != null && method.nonBlocking();
    }

    private MethodDefinition<?, ?> lookup(String serviceName, String methodName) {
        ServiceDefinition service = services.get(serviceName);
        if (service == null) {
            throw new TtrpcException(StatusCode.UNIMPLEMENTED, "ttrpc: unknown service " + serviceName);
        }
        MethodDefinition<?, ?> method = service.methods().get(methodName);
        if (method == null) {
            throw new TtrpcException(StatusCode.UNIMPLEMENTED, "ttrpc: unknown method " + methodName + " of service " + serviceName);
        }
        return method;
    }

    public static Response failure(TtrpcException e) {
        return Response.newBuilder().setStatus(e.toStatus()).setPayload(ByteString.EMPTY).build();
    }

    private static Map<String, List<String>> metadata(List<KeyValue> pairs) {
        if (pairs.isEmpty()) {
            return Map.of();
        }
        Map<String, List<String>> map = new HashMap<>();
        for (KeyValue pair : pairs) {
            map.computeIfAbsent(pair.getKey(), k -> new ArrayList<>(1)).add(pair.getValue());
        }
        return map;
    }
}
