package dev.katashim.metrics.server;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpRequest;

/**
 * Netty's aggregator, except that a request whose body is over the limit is passed on as an
 * {@link OversizedRequest} instead of being answered 413 on the spot: the answer then takes its
 * turn after those of the requests pipelined before it (Netty's own would overtake them).
 */
final class InTurnAggregator extends HttpObjectAggregator {

    /** A request refused for its body; its bytes are discarded as they arrive. */
    record OversizedRequest(String method, String uri) {
    }

    InTurnAggregator(int maxContentLength) {
        super(maxContentLength, true);
    }

    @Override
    protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) {
        if (oversized instanceof HttpRequest request) {
            ctx.fireChannelRead(new OversizedRequest(request.method().name(), request.uri()));
        } else {
            ctx.close();
        }
        // the aggregator releases the message and discards the rest of its body
    }
}
