package dev.katashim.ttrpc.client;

import com.google.protobuf.AbstractMessageLite;
import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.MessageLite;
import com.google.protobuf.Parser;

import java.io.IOException;

/** A "message" that serializes to exactly the given bytes, valid or not: for sending garbage payloads. */
final class RawMessage extends AbstractMessageLite<RawMessage, RawMessage.Builder> {
    private final byte[] bytes;

    RawMessage(byte[] bytes) {
        this.bytes = bytes;
    }

    @Override
    public void writeTo(CodedOutputStream output) throws IOException {
        output.writeRawBytes(bytes);
    }

    @Override
    public int getSerializedSize() {
        return bytes.length;
    }

    @Override
    public ByteString toByteString() {
        return ByteString.copyFrom(bytes);
    }

    @Override
    public Parser<? extends MessageLite> getParserForType() {
        throw new UnsupportedOperationException();
    }

    @Override
    public Builder newBuilderForType() {
        throw new UnsupportedOperationException();
    }

    @Override
    public Builder toBuilder() {
        throw new UnsupportedOperationException();
    }

    @Override
    public MessageLite getDefaultInstanceForType() {
        throw new UnsupportedOperationException();
    }

    @Override
    public boolean isInitialized() {
        return true;
    }

    abstract static class Builder extends AbstractMessageLite.Builder<RawMessage, Builder> {
    }
}
