package dev.katashim.ttrpc.transport;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.concurrent.Promise;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * Client half of the hybrid-vsock handshake (Firecracker, Cloud Hypervisor): on a unix socket
 * the VMM multiplexes guest vsock ports; the client says {@code CONNECT <port>\n} and the VMM
 * answers {@code OK <host port>\n}. Bytes after the answer belong to the protocol on top.
 */
final class HybridVsockConnector extends ChannelInboundHandlerAdapter {
    private static final int MAX_REPLY = 64;

    private final int port;
    private final Promise<Void> done;
    private final StringBuilder reply = new StringBuilder();

    HybridVsockConnector(int port, Promise<Void> done) {
        this.port = port;
        this.done = done;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        ctx.writeAndFlush(Unpooled.copiedBuffer("CONNECT " + port + "\n", StandardCharsets.US_ASCII));
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf in = (ByteBuf) msg;
        try {
            while (in.isReadable()) {
                char c = (char) in.readByte();
                if (c == '\n') {
                    finish(ctx, in);
                    return;
                }
                if (reply.length() >= MAX_REPLY) {
                    fail(ctx, "hybrid vsock: no newline in the first " + MAX_REPLY + " bytes of the reply");
                    return;
                }
                reply.append(c);
            }
        } finally {
            in.release();
        }
    }

    private void finish(ChannelHandlerContext ctx, ByteBuf rest) {
        String line = reply.toString();
        if (!line.startsWith("OK ")) {
            fail(ctx, "hybrid vsock: CONNECT " + port + " refused: '" + line + "'");
            return;
        }
        ctx.pipeline().remove(this);
        done.trySuccess(null);
        if (rest.isReadable()) {
            ctx.fireChannelRead(rest.retain());
        }
    }

    private void fail(ChannelHandlerContext ctx, String why) {
        done.tryFailure(new IOException(why));
        ctx.close();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        done.tryFailure(new IOException("hybrid vsock: connection closed before the CONNECT " + port + " reply"));
        ctx.fireChannelInactive();
    }
}
