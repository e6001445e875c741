package dev.katashim.ttrpc.server;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.unix.PeerCredentials;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Accepts unix-socket peers only when they run as this process's user and group (SO_PEERCRED),
 * as containerd's shims do: the socket's file mode is not the only guard.
 */
@ChannelHandler.Sharable
final class PeerCredentialCheck extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(PeerCredentialCheck.class);

    private final int uid;
    private final int gid;

    PeerCredentialCheck() {
        try {
            Path self = Path.of("/proc/self");
            this.uid = (Integer) Files.getAttribute(self, "unix:uid");
            this.gid = (Integer) Files.getAttribute(self, "unix:gid");
        } catch (IOException e) {
            throw new IllegalStateException("cannot read this process's uid/gid", e);
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        if (ctx.channel() instanceof EpollDomainSocketChannel unix) {
            PeerCredentials peer = unix.peerCredentials();
            int[] gids = peer.gids();
            int peerGid = gids.length > 0 ? gids[0] : -1;
            if (peer.uid() != uid || peerGid != gid) {
                log.warn("ttrpc: refusing peer pid {} uid {} gid {}: not uid {} gid {}", peer.pid(), peer.uid(), peerGid, uid, gid);
                ctx.close();
                return;
            }
        }
        ctx.pipeline().remove(this);
        ctx.fireChannelActive();
    }
}
