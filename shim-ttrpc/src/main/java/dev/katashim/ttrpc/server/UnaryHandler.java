package dev.katashim.ttrpc.server;

/**
 * The body of one unary method. It runs on its own virtual thread, so it may block. Throw a
 * {@link dev.katashim.ttrpc.status.TtrpcException} to answer with a specific status; any other
 * exception answers UNKNOWN with its message.
 */
@FunctionalInterface
public interface UnaryHandler<Req, Resp> {
    Resp handle(Req request, CallContext context) throws Exception;
}
