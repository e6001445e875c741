package dev.katashim.ttrpc.frame;

import io.netty.channel.ChannelHandlerContext;
import org.slf4j.Logger;

/** What a ttrpc connection handler does with an exception: close the connection, and say why. */
public final class ConnectionErrors {
    private ConnectionErrors() {
    }

    public static void close(ChannelHandlerContext ctx, Throwable cause, Logger log) {
        if (cause instanceof java.io.IOException) {
            log.debug("ttrpc: connection lost: {}", cause.toString()); // a peer that went away is routine
        } else {
            log.warn("ttrpc: closing the connection: {}", cause.toString());
        }
        ctx.close();
    }
}
