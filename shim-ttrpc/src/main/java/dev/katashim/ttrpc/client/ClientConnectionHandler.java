package dev.katashim.ttrpc.client;

import dev.katashim.ttrpc.frame.ConnectionErrors;
import dev.katashim.ttrpc.frame.Frame;
import dev.katashim.ttrpc.frame.OversizedFrame;
import dev.katashim.ttrpc.frame.UnknownFrame;
import dev.katashim.ttrpc.status.StatusCode;
import dev.katashim.ttrpc.status.TtrpcException;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Routes response frames to the calls waiting for them; a closed connection fails them all. */
final class ClientConnectionHandler extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(ClientConnectionHandler.class);

    private final PendingCalls pending;

    ClientConnectionHandler(PendingCalls pending) {
        this.pending = pending;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        switch (msg) {
            case Frame frame -> {
                try {
                    switch (frame.type()) {
                        case RESPONSE -> pending.complete(frame.streamId(), frame.data());
                        case DATA -> log.debug("ttrpc: ignoring stream data on unary stream {}", frame.streamId());
                        case REQUEST -> {
                            log.warn("ttrpc: closing {}: the server sent a request frame", ctx.channel().remoteAddress());
                            ctx.close();
                        }
                    }
                } finally {
                    frame.release();
                }
            }
            case OversizedFrame oversized -> {
                pending.fail(oversized.streamId(), TtrpcException.of(StatusCode.RESOURCE_EXHAUSTED,
                        "ttrpc: response length %d exceeds the maximum message size of %d", oversized.announcedLength(), Frame.MAX_DATA_LENGTH));
                // a ttrpc server never sends one (it answers with an error instead): a broken or hostile peer,
                // which could announce 4 GiB and keep the connection busy discarding; the other calls fail UNAVAILABLE
                log.warn("ttrpc: closing {}: the server sent a frame of {} bytes", ctx.channel().remoteAddress(), oversized.announcedLength());
                ctx.close();
            }
            case UnknownFrame unknown -> {
                log.warn("ttrpc: closing {}: frame of unknown type {}", ctx.channel().remoteAddress(), unknown.rawType());
                ctx.close();
            }
            default -> ctx.fireChannelRead(msg);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        pending.failAll(new TtrpcException(StatusCode.UNAVAILABLE, "ttrpc: closed"));
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ConnectionErrors.close(ctx, cause, log);
    }
}
