package dev.katashim.ttrpc.frame;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;

import java.util.List;

/**
 * Bytes to {@link Frame}s. An oversized frame is skipped byte by byte as it arrives (never buffered)
 * and reported as an {@link OversizedFrame}; an unknown type is reported as an {@link UnknownFrame}.
 */
public final class FrameDecoder extends ByteToMessageDecoder {
    private long bytesToDiscard;

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        while (true) {
            if (bytesToDiscard > 0) {
                int skip = (int) Math.min(bytesToDiscard, in.readableBytes());
                in.skipBytes(skip);
                bytesToDiscard -= skip;
                if (bytesToDiscard > 0) {
                    return;
                }
            }
            if (in.readableBytes() < Frame.HEADER_LENGTH) {
                return;
            }
            int start = in.readerIndex();
            long length = in.getUnsignedInt(start);
            int streamId = in.getInt(start + 4);
            int rawType = in.getUnsignedByte(start + 8);
            int flags = in.getUnsignedByte(start + 9);
            FrameType type = FrameType.fromWire(rawType);

            if (length > Frame.MAX_DATA_LENGTH) {
                in.skipBytes(Frame.HEADER_LENGTH);
                bytesToDiscard = length;
                out.add(new OversizedFrame(streamId, type, length));
                continue;
            }
            if (in.readableBytes() < Frame.HEADER_LENGTH + length) {
                return;
            }
            in.skipBytes(Frame.HEADER_LENGTH);
            if (type == null) {
                in.skipBytes((int) length);
                out.add(new UnknownFrame(streamId, rawType, flags));
                continue;
            }
            out.add(new Frame(streamId, type, flags, in.readRetainedSlice((int) length)));
        }
    }
}
