package dev.katashim.ttrpc.frame;

/** The message types of a ttrpc frame header (containerd/ttrpc PROTOCOL.md). */
public enum FrameType {
    REQUEST(0x01),
    RESPONSE(0x02),
    DATA(0x03);

    private final int wire;

    FrameType(int wire) {
        this.wire = wire;
    }

    public int wire() {
        return wire;
    }

    /** The type for a header byte, or null when the byte names no type this protocol version knows. */
    public static FrameType fromWire(int value) {
        return switch (value) {
            case 0x01 -> REQUEST;
            case 0x02 -> RESPONSE;
            case 0x03 -> DATA;
            default -> null;
        };
    }
}
