package dev.katashim.ttrpc.frame;

import dev.katashim.ttrpc.testing.FuzzScale;
import dev.katashim.ttrpc.testing.LeakWatch;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.RandomDistribution;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The frame codec against anything on the wire: encoded frames come back as they were sent
 * however the bytes are cut; arbitrary bytes, truncated and oversized headers decode exactly as
 * the protocol says (checked against {@link WireModel}), never throw, and every buffer is released.
 * Tries: {@code -Dfuzz.tries} (scripts/bench-fuzz raises it); the frame count is printed.
 */
class FrameCodecProperties {
    /**
     * Wires of every length up to the maximum, equally often: jqwik's default favours short lists,
     * which left long sessions (and the million frames of a bench run) mostly untried.
     */
    private static final RandomDistribution SESSION_LENGTHS = RandomDistribution.uniform();
    private static final AtomicLong frames = new AtomicLong();
    private static long startNanos;

    @BeforeContainer
    static void watchLeaks() {
        LeakWatch.start();
        startNanos = System.nanoTime();
    }

    @AfterContainer
    static void noLeaks() {
        double seconds = (System.nanoTime() - startNanos) / 1e9;
        System.out.printf("FrameCodecProperties: %,d frames decoded in %.1f s (%,.0f frames/s)%n",
                frames.get(), seconds, frames.get() / seconds);
        assertThat(LeakWatch.leaks()).as("ByteBufs leaked by the codec").isEmpty();
    }

    record Sent(int streamId, FrameType type, int flags, byte[] data) {
    }

    @Provide
    Arbitrary<Sent> frame() {
        Arbitrary<Integer> streamIds = Arbitraries.integers()
                .edgeCases(c -> c.add(0, 1, -1, Integer.MAX_VALUE, Integer.MIN_VALUE));
        // mostly small, as calls are; sometimes up to 2 KiB
        Arbitrary<byte[]> data = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(8, Arbitraries.bytes().array(byte[].class).ofMaxSize(64)),
                net.jqwik.api.Tuple.of(2, Arbitraries.bytes().array(byte[].class).ofMaxSize(2048)));
        return Combinators.combine(streamIds, Arbitraries.of(FrameType.class), Arbitraries.integers().between(0, 255), data)
                .as(Sent::new);
    }

    /** Where the wire is cut into reads: any positions, including inside a header. */
    @Provide
    Arbitrary<List<Integer>> cuts() {
        return Arbitraries.integers().between(1, 4096).list().ofMaxSize(64);
    }

    @Property
    void encodedFramesDecodeAsSentHoweverTheWireIsCut(@ForAll("sentFrames") List<Sent> sent, @ForAll("cuts") List<Integer> cuts) {
        byte[] wire = encode(sent);
        Decoding decoding = decode(wire, cuts);
        List<Object> decoded = decoding.messages();
        assertThat(decoded).hasSameSizeAs(sent);
        for (int i = 0; i < sent.size(); i++) {
            Frame frame = (Frame) decoded.get(i);
            Sent expected = sent.get(i);
            assertThat(new Sent(frame.streamId(), frame.type(), frame.flags(), bytes(frame.data())))
                    .usingRecursiveComparison().isEqualTo(expected);
        }
        decoding.release();
    }

    @Provide
    Arbitrary<List<Sent>> sentFrames() {
        return frame().list().ofMaxSize(FuzzScale.framesPerTry()).withSizeDistribution(SESSION_LENGTHS);
    }

    /** Any bytes at all: decoded exactly as the model says, never an exception out of the pipeline. */
    @Property
    void arbitraryBytesDecodeAsTheProtocolSays(@ForAll("hostileWire") byte[] wire, @ForAll("cuts") List<Integer> cuts) {
        Decoding decoding = decode(wire, cuts);
        List<Object> decoded = decoding.messages();
        List<Object> described = new ArrayList<>();
        for (Object message : decoded) {
            described.add(message instanceof Frame f ? new WireModel.Decoded(f.streamId(), f.type().wire(), f.flags(), bytes(f.data())) : message);
        }
        decoding.release();
        assertThat(described).usingRecursiveFieldByFieldElementComparator().isEqualTo(WireModel.decode(wire));
    }

    /**
     * Wire bytes a hostile or broken peer sends: well-formed frames, unknown types, headers cut
     * short, announced lengths beyond 4 MiB (up to 4 GiB) or a little beyond what follows, noise.
     */
    @Provide
    Arbitrary<byte[]> hostileWire() {
        Arbitrary<byte[]> wellFormed = frame().map(s -> encode(List.of(s)));
        Arbitrary<byte[]> unknownType = Combinators.combine(Arbitraries.integers(), Arbitraries.integers().between(4, 255),
                Arbitraries.bytes().array(byte[].class).ofMaxSize(64))
                .as((id, type, data) -> header(data.length, id, type, 0, data));
        Arbitrary<byte[]> truncatedHeader = Arbitraries.bytes().array(byte[].class).ofMinSize(1).ofMaxSize(Frame.HEADER_LENGTH - 1);
        Arbitrary<byte[]> oversized = Combinators.combine(
                        Arbitraries.longs().between(Frame.MAX_DATA_LENGTH + 1L, 0xFFFF_FFFFL)
                                .edgeCases(c -> c.add(Frame.MAX_DATA_LENGTH + 1L, 0xFFFF_FFFFL, 0x8000_0000L)),
                        Arbitraries.integers(), Arbitraries.integers().between(0, 255))
                .as((length, id, type) -> header((int) (long) length, id, type, 0, new byte[0]));
        Arbitrary<byte[]> lengthBeyondWhatFollows = Combinators.combine(Arbitraries.integers().between(1, 100),
                        Arbitraries.bytes().array(byte[].class).ofMaxSize(50))
                .as((extra, data) -> header(data.length + extra, 1, 1, 0, data));
        Arbitrary<byte[]> noise = Arbitraries.bytes().array(byte[].class).ofMaxSize(200);
        Arbitrary<byte[]> piece = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(6, wellFormed), net.jqwik.api.Tuple.of(1, unknownType),
                net.jqwik.api.Tuple.of(1, truncatedHeader), net.jqwik.api.Tuple.of(1, oversized),
                net.jqwik.api.Tuple.of(1, lengthBeyondWhatFollows), net.jqwik.api.Tuple.of(1, noise));
        return piece.list().ofMaxSize(FuzzScale.framesPerTry()).withSizeDistribution(SESSION_LENGTHS).map(FrameCodecProperties::concat);
    }

    /**
     * A frame announcing more than 4 MiB is reported and its bytes dropped as they arrive; the
     * frame after it decodes. The discarded bytes really are sent here (4 MiB and a bit).
     */
    @Property(tries = 10)
    void anOversizedFrameIsSkippedAndTheNextOneDecodes(@ForAll("excess") int excess, @ForAll("frame") Sent next,
                                                       @ForAll("cuts") List<Integer> cuts) {
        long announced = Frame.MAX_DATA_LENGTH + (long) excess;
        byte[] wire = concat(List.of(header((int) announced, 7, 1, 0, new byte[(int) announced]), encode(List.of(next))));
        List<Integer> bigCuts = cuts.stream().map(c -> c * 1024).toList();
        Decoding decoding = decode(wire, bigCuts);
        List<Object> decoded = decoding.messages();
        assertThat(decoded).hasSize(2);
        assertThat(decoded.getFirst()).isEqualTo(new OversizedFrame(7, FrameType.REQUEST, announced));
        Frame frame = (Frame) decoded.get(1);
        assertThat(frame.streamId()).isEqualTo(next.streamId());
        assertThat(bytes(frame.data())).isEqualTo(next.data());
        decoding.release();
    }

    @Provide
    Arbitrary<Integer> excess() {
        return Arbitraries.integers().between(1, 70_000).edgeCases(c -> c.add(1));
    }

    // ---- helpers ----

    /** What the decoder produced from one input, and the buffers that input came in. */
    private record Decoding(List<Object> messages, List<ByteBuf> inputs) {
        /** Releases the frames; then no input buffer may be held any more. */
        void release() {
            for (Object message : messages) {
                if (message instanceof Frame frame) {
                    frame.release();
                }
            }
            for (ByteBuf input : inputs) {
                assertThat(input.refCnt()).as("an input buffer still held after every frame was released").isZero();
            }
        }
    }

    /** Decodes {@code wire} fed in pieces of the given sizes (cycled), then ends the input. */
    private static Decoding decode(byte[] wire, List<Integer> cuts) {
        EmbeddedChannel decoder = new EmbeddedChannel(new FrameDecoder());
        List<ByteBuf> inputs = new ArrayList<>();
        int offset = 0;
        int cut = 0;
        while (offset < wire.length) {
            int size = cuts.isEmpty() ? wire.length : Math.min(cuts.get(cut++ % cuts.size()), wire.length - offset);
            ByteBuf piece = decoder.alloc().buffer(size).writeBytes(wire, offset, size);
            inputs.add(piece);
            decoder.writeInbound(piece);
            offset += size;
        }
        List<Object> decoded = new ArrayList<>();
        for (Object message; (message = decoder.readInbound()) != null; ) {
            decoded.add(message);
        }
        assertThat(decoder.finish()).as("nothing decoded after the input ended").isFalse();
        frames.addAndGet(decoded.size());
        return new Decoding(decoded, inputs);
    }

    private static byte[] encode(List<Sent> frames) {
        EmbeddedChannel encoder = new EmbeddedChannel(FrameEncoder.INSTANCE);
        ByteArrayOutputStream wire = new ByteArrayOutputStream();
        for (Sent s : frames) {
            ByteBuf data = Unpooled.buffer(s.data().length).writeBytes(s.data()); // never the shared EMPTY_BUFFER
            encoder.writeOutbound(new Frame(s.streamId(), s.type(), s.flags(), data));
            for (ByteBuf part; (part = encoder.readOutbound()) != null; ) {
                wire.writeBytes(bytes(part));
                part.release();
            }
            assertThat(data.refCnt()).as("the frame's data once the written bytes are released").isZero();
        }
        assertThat(encoder.finish()).isFalse();
        return wire.toByteArray();
    }

    static byte[] header(int length, int streamId, int type, int flags, byte[] data) {
        return ByteBuffer.allocate(Frame.HEADER_LENGTH + data.length)
                .putInt(length).putInt(streamId).put((byte) type).put((byte) flags).put(data).array();
    }

    private static byte[] concat(List<byte[]> pieces) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        pieces.forEach(out::writeBytes);
        return out.toByteArray();
    }

    private static byte[] bytes(ByteBuf buffer) {
        byte[] bytes = new byte[buffer.readableBytes()];
        buffer.getBytes(buffer.readerIndex(), bytes);
        return bytes;
    }

    /** ttrpc's framing written plainly over a byte array: what the decoder must produce. */
    static final class WireModel {
        record Decoded(int streamId, int type, int flags, byte[] data) {
        }

        static List<Object> decode(byte[] wire) {
            List<Object> out = new ArrayList<>();
            ByteBuffer in = ByteBuffer.wrap(wire);
            while (in.remaining() >= Frame.HEADER_LENGTH) {
                long length = Integer.toUnsignedLong(in.getInt(in.position()));
                int streamId = in.getInt(in.position() + 4);
                int type = Byte.toUnsignedInt(in.get(in.position() + 8));
                int flags = Byte.toUnsignedInt(in.get(in.position() + 9));
                if (length > Frame.MAX_DATA_LENGTH) {
                    out.add(new OversizedFrame(streamId, FrameType.fromWire(type), length));
                    long end = in.position() + Frame.HEADER_LENGTH + length;
                    if (end > wire.length) {
                        break; // the rest of the input is the oversized frame's, and is dropped
                    }
                    in.position((int) end);
                    continue;
                }
                if (in.remaining() < Frame.HEADER_LENGTH + length) {
                    break; // a frame not complete yet
                }
                in.position(in.position() + Frame.HEADER_LENGTH);
                byte[] data = new byte[(int) length];
                in.get(data);
                out.add(FrameType.fromWire(type) == null ? new UnknownFrame(streamId, type, flags) : new Decoded(streamId, type, flags, data));
            }
            return out;
        }
    }

}
