package dev.katashim.ttrpc.frame;

/** Flag bits of a ttrpc frame header; their meaning depends on the frame type. */
public final class FrameFlags {
    /** Request or Data: the sender will send no more data on this stream. */
    public static final int REMOTE_CLOSED = 0x01;
    /** Request: the sender is still sending data on this stream (client streaming). */
    public static final int REMOTE_OPEN = 0x02;
    /** Data: the frame carries no payload at all (not even an empty message). */
    public static final int NO_DATA = 0x04;

    private FrameFlags() {
    }

    public static boolean isSet(int flags, int flag) {
        return (flags & flag) != 0;
    }
}
