package dev.katashim.ttrpc.frame;

import io.netty.buffer.ByteBuf;
import io.netty.util.ReferenceCounted;
import io.netty.util.AbstractReferenceCounted;

/**
 * One ttrpc frame: a 10-byte header (data length, stream id, type, flags) and its data.
 * The frame owns {@code data}; whoever consumes the frame releases it.
 */
public final class Frame extends AbstractReferenceCounted {
    /** Header: u32 length, u32 stream id, u8 type, u8 flags. */
    public static final int HEADER_LENGTH = 10;
    /** The largest data a frame may carry (4 MiB, as containerd/ttrpc). */
    public static final int MAX_DATA_LENGTH = 4 << 20;

    private final int streamId;
    private final FrameType type;
    private final int flags;
    private final ByteBuf data;

    public Frame(int streamId, FrameType type, int flags, ByteBuf data) {
        this.streamId = streamId;
        this.type = type;
        this.flags = flags;
        this.data = data;
    }

    public int streamId() {
        return streamId;
    }

    public FrameType type() {
        return type;
    }

    public int flags() {
        return flags;
    }

    public ByteBuf data() {
        return data;
    }

    @Override
    protected void deallocate() {
        data.release();
    }

    @Override
    public ReferenceCounted touch(Object hint) {
        data.touch(hint);
        return this;
    }

    @Override
    public String toString() {
        return "Frame{stream=" + Integer.toUnsignedString(streamId) + ", type=" + type
                + ", flags=0x" + Integer.toHexString(flags) + ", length=" + data.readableBytes() + "}";
    }
}
