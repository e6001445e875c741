package dev.katashim.ttrpc.frame;

/** A frame whose type byte names no known type; its data was discarded. */
public record UnknownFrame(int streamId, int rawType, int flags) {
}
