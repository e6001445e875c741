package dev.katashim.ttrpc.server;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageLite;
import com.google.protobuf.Parser;

/**
 * One unary method: how to read its request and what to do with it. {@code nonBlocking}: the handler
 * answers from memory and never waits (no I/O, no lock held across a wait), so the server may run
 * it on the connection's event loop instead of handing it to a thread and back.
 */
public record MethodDefinition<Req extends MessageLite, Resp extends MessageLite>(
        String name, Parser<Req> requestParser, UnaryHandler<Req, Resp> handler, boolean nonBlocking) {

    MessageLite invoke(byte[] payload, CallContext context) throws Exception {
        return handler.handle(parse(payload), context);
    }

    private Req parse(byte[] payload) throws InvalidProtocolBufferException {
        return requestParser.parseFrom(payload);
    }
}
