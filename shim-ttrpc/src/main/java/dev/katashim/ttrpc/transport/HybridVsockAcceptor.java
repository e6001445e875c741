package dev.katashim.ttrpc.transport;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

import java.nio.charset.StandardCharsets;

/**
 * Server half of the hybrid-vsock handshake, for serving on an {@code hvsock://} endpoint the way
 * a VMM's multiplexer does: accepts {@code CONNECT <port>\n} for its port, answers {@code OK <port>\n},
 * then gets out of the way. Anything else closes the connection.
 */
final class HybridVsockAcceptor extends ChannelInboundHandlerAdapter {
    private static final int MAX_LINE = 64;

    private final int port;
    private final StringBuilder line = new StringBuilder();

    HybridVsockAcceptor(int port) {
        this.port = port;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf in = (ByteBuf) msg;
        try {
            while (in.isReadable()) {
                char c = (char) in.readByte();
                if (c == '\n') {
                    accept(ctx, in);
                    return;
                }
                if (line.length() >= MAX_LINE) {
                    ctx.close();
                    return;
                }
                line.append(c);
            }
        } finally {
            in.release();
        }
    }

    private void accept(ChannelHandlerContext ctx, ByteBuf rest) {
        if (!line.toString().equals("CONNECT " + port)) {
            ctx.close();
            return;
        }
        ctx.writeAndFlush(Unpooled.copiedBuffer("OK " + port + "\n", StandardCharsets.US_ASCII));
        ctx.pipeline().remove(this);
        if (rest.isReadable()) {
            ctx.fireChannelRead(rest.retain());
        }
    }
}
