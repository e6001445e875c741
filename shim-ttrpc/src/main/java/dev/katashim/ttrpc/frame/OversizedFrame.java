package dev.katashim.ttrpc.frame;

/**
 * A frame whose announced length exceeded {@link Frame#MAX_DATA_LENGTH}: its data was read and
 * discarded so that the connection stays usable, and the peer is told why (RESOURCE_EXHAUSTED).
 */
public record OversizedFrame(int streamId, FrameType type, long announcedLength) {
}
