package dev.katashim.ttrpc.frame;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToMessageEncoder;

import java.util.List;

/** {@link Frame}s to bytes: a freshly written header followed by the frame's own data, not copied. */
@ChannelHandler.Sharable
public final class FrameEncoder extends MessageToMessageEncoder<Frame> {
    public static final FrameEncoder INSTANCE = new FrameEncoder();

    private FrameEncoder() {
        super(Frame.class);
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, Frame frame, List<Object> out) {
        ByteBuf data = frame.data();
        if (data.readableBytes() > Frame.MAX_DATA_LENGTH) {
            throw new IllegalArgumentException("ttrpc frame data of " + data.readableBytes()
                    + " bytes exceeds the maximum of " + Frame.MAX_DATA_LENGTH);
        }
        ByteBuf header = ctx.alloc().buffer(Frame.HEADER_LENGTH);
        header.writeInt(data.readableBytes());
        header.writeInt(frame.streamId());
        header.writeByte(frame.type().wire());
        header.writeByte(frame.flags());
        out.add(header);
        out.add(data.retain());
    }
}
