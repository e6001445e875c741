package dev.katashim.ttrpc.frame;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

class FrameCodecTest {

    @Test
    void headerIsTenBytesBigEndianAsContainerdWritesIt() {
        EmbeddedChannel out = new EmbeddedChannel(FrameEncoder.INSTANCE);
        out.writeOutbound(new Frame(0x01020305, FrameType.RESPONSE, FrameFlags.REMOTE_CLOSED,
                Unpooled.copiedBuffer("abc", StandardCharsets.US_ASCII)));
        ByteBuf header = out.readOutbound();
        ByteBuf data = out.readOutbound();
        byte[] bytes = new byte[header.readableBytes()];
        header.readBytes(bytes);
        assertThat(bytes).containsExactly(0, 0, 0, 3, 1, 2, 3, 5, 2, 1);
        assertThat(data.toString(StandardCharsets.US_ASCII)).isEqualTo("abc");
        header.release();
        data.release();
        assertThat(out.finish()).isFalse();
    }

    @Test
    void framesSurviveArbitraryFragmentation() {
        EmbeddedChannel encoder = new EmbeddedChannel(FrameEncoder.INSTANCE);
        ByteBuf wire = Unpooled.buffer();
        Random random = new Random(42);
        int frames = 200;
        for (int i = 0; i < frames; i++) {
            byte[] payload = new byte[random.nextInt(3000)];
            random.nextBytes(payload);
            encoder.writeOutbound(new Frame(2 * i + 1, FrameType.values()[i % 3], i & 7, Unpooled.wrappedBuffer(payload)));
            ByteBuf part;
            while ((part = encoder.readOutbound()) != null) {
                wire.writeBytes(part);
                part.release();
            }
        }
        EmbeddedChannel decoder = new EmbeddedChannel(new FrameDecoder());
        while (wire.isReadable()) {
            decoder.writeInbound(wire.readRetainedSlice(Math.min(wire.readableBytes(), 1 + random.nextInt(700))));
        }
        wire.release();
        random = new Random(42);
        for (int i = 0; i < frames; i++) {
            byte[] expected = new byte[random.nextInt(3000)];
            random.nextBytes(expected);
            Frame frame = decoder.readInbound();
            assertThat(frame.streamId()).isEqualTo(2 * i + 1);
            assertThat(frame.type()).isEqualTo(FrameType.values()[i % 3]);
            assertThat(frame.flags()).isEqualTo(i & 7);
            byte[] actual = new byte[frame.data().readableBytes()];
            frame.data().readBytes(actual);
            assertThat(actual).isEqualTo(expected);
            frame.release();
        }
        assertThat((Object) decoder.readInbound()).isNull();
        assertThat(decoder.finish()).isFalse();
    }

    @Test
    void oversizedFrameIsSkippedWithoutBufferingAndTheNextFrameStillDecodes() {
        EmbeddedChannel decoder = new EmbeddedChannel(new FrameDecoder());
        int announced = Frame.MAX_DATA_LENGTH + 1;
        ByteBuf header = Unpooled.buffer().writeInt(announced).writeInt(7).writeByte(1).writeByte(0);
        decoder.writeInbound(header);
        OversizedFrame oversized = decoder.readInbound();
        assertThat(oversized).isEqualTo(new OversizedFrame(7, FrameType.REQUEST, announced));
        // the announced bytes arrive in chunks and are dropped as they come
        for (int sent = 0; sent < announced; ) {
            int chunk = Math.min(64 * 1024, announced - sent);
            decoder.writeInbound(Unpooled.wrappedBuffer(new byte[chunk]));
            sent += chunk;
        }
        assertThat((Object) decoder.readInbound()).isNull();
        decoder.writeInbound(Unpooled.buffer().writeInt(1).writeInt(9).writeByte(1).writeByte(0).writeByte('x'));
        Frame next = decoder.readInbound();
        assertThat(next.streamId()).isEqualTo(9);
        assertThat(next.data().readableBytes()).isEqualTo(1);
        next.release();
        assertThat(decoder.finish()).isFalse();
    }

    @Test
    void aFrameOfExactlyTheMaximumIsDecoded() {
        EmbeddedChannel decoder = new EmbeddedChannel(new FrameDecoder());
        decoder.writeInbound(Unpooled.buffer().writeInt(Frame.MAX_DATA_LENGTH).writeInt(3).writeByte(1).writeByte(0)
                .writeBytes(new byte[Frame.MAX_DATA_LENGTH]));
        Frame frame = decoder.readInbound();
        assertThat(frame.data().readableBytes()).isEqualTo(Frame.MAX_DATA_LENGTH);
        frame.release();
        assertThat(decoder.finish()).isFalse();
    }

    @Test
    void unknownTypeIsReportedNotDecodedAsData() {
        EmbeddedChannel decoder = new EmbeddedChannel(new FrameDecoder());
        decoder.writeInbound(Unpooled.buffer().writeInt(2).writeInt(3).writeByte(9).writeByte(0).writeShort(0));
        assertThat((Object) decoder.readInbound()).isEqualTo(new UnknownFrame(3, 9, 0));
        assertThat(decoder.finish()).isFalse();
    }

    @Test
    void encoderRefusesDataAboveTheLimit() {
        EmbeddedChannel out = new EmbeddedChannel(FrameEncoder.INSTANCE);
        Frame huge = new Frame(1, FrameType.REQUEST, 0, Unpooled.wrappedBuffer(new byte[Frame.MAX_DATA_LENGTH + 1]));
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> out.writeOutbound(huge))
                .hasMessageContaining("exceeds the maximum");
        out.finishAndReleaseAll();
    }
}
