package dev.katashim.ttrpc.testing;

import com.google.protobuf.ByteString;
import dev.katashim.protocols.ttrpc.KeyValue;
import dev.katashim.protocols.ttrpc.Request;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * What one hostile client sends on one connection, and what the server owes it in return: exactly
 * one response frame per request frame and per oversized frame, on that frame's stream id (even,
 * reused, unparseable or unknown-method ones included). Data frames are owed nothing. A session
 * may end with a frame that makes the server close the connection (a response frame or a type
 * ttrpc does not know), or with a header announcing more than 4 MiB.
 *
 * @param owed answers owed per stream id
 */
public record HostileSession(List<byte[]> frames, Map<Integer, Integer> owed, Ending ending, List<String> described) {
    private static final int TYPE_REQUEST = 1;
    private static final int TYPE_RESPONSE = 2;
    private static final int TYPE_DATA = 3;
    private static final int MAX_DATA = 4 << 20;

    public enum Ending {
        /** Every owed answer must arrive, and the connection stays open. */
        OPEN,
        /** The last frame makes the server close: answers before it may be lost, none may be extra. */
        CLOSED_BY_SERVER,
        /** The last frame announces more than 4 MiB: answered RESOURCE_EXHAUSTED, then the client leaves. */
        OVERSIZED
    }

    /** What was sent on {@code streamId}, one line per frame. */
    public String describe(int streamId) {
        String prefix = "stream " + Integer.toUnsignedString(streamId) + " ";
        return String.join("; ", described.stream().filter(d -> d.startsWith(prefix)).toList());
    }

    public int owedTotal() {
        return owed.values().stream().mapToInt(Integer::intValue).sum();
    }

    /** Up to {@code maxFrames} frames aimed at {@code targets}, drawn from {@code random}. */
    public static HostileSession generate(List<FuzzTarget> targets, Random random, int maxFrames) {
        return generate(targets, random, maxFrames, List.of());
    }

    /** As above, the payloads' strings often drawn from {@code words}. */
    public static HostileSession generate(List<FuzzTarget> targets, Random random, int maxFrames, List<String> words) {
        Builder b = new Builder(random);
        int count = 1 + random.nextInt(maxFrames);
        for (int i = 0; i < count; i++) {
            int kind = random.nextInt(100);
            if (kind < 60) {
                FuzzTarget target = targets.get(random.nextInt(targets.size()));
                b.request(target.service(), target.method(), RandomMessages.payload(target.requestType(), random, words),
                        target.mayBlock(), target.toString());
            } else if (kind < 70) {
                FuzzTarget target = targets.get(random.nextInt(targets.size()));
                b.request(nearMiss(target.service(), random), nearMiss(target.method(), random),
                        RandomMessages.junk(random, random.nextInt(16)), false, "unknown method");
            } else if (kind < 82) {
                b.garbageEnvelope();
            } else {
                b.data();
            }
        }
        int end = random.nextInt(20);
        if (end == 0) {
            b.closing();
        } else if (end == 1) {
            b.oversized();
        }
        return b.build();
    }

    private static String nearMiss(String name, Random random) {
        return switch (random.nextInt(5)) {
            case 0 -> "";
            case 1 -> name.toLowerCase();
            case 2 -> name + "x";
            case 3 -> name.isEmpty() ? "?" : name.substring(0, random.nextInt(name.length()));
            default -> "/" + name;
        };
    }

    private static final class Builder {
        private final Random random;
        private final List<byte[]> frames = new ArrayList<>();
        private final List<String> described = new ArrayList<>();
        private final Map<Integer, Integer> owed = new HashMap<>();
        private final List<Integer> used = new ArrayList<>();
        private int nextOdd = 1;
        private Ending ending = Ending.OPEN;

        Builder(Random random) {
            this.random = random;
        }

        /** Mostly the next odd id, as a client counts; sometimes any id, 0, an even one or one used before. */
        private int streamId() {
            int pick = random.nextInt(20);
            int id;
            if (pick < 14 || used.isEmpty()) {
                id = nextOdd;
                nextOdd += 2;
            } else if (pick < 16) {
                id = random.nextInt();
            } else if (pick < 17) {
                id = random.nextBoolean() ? 0 : 2 * random.nextInt(1000);
            } else {
                id = used.get(random.nextInt(used.size()));
            }
            used.add(id);
            return id;
        }

        private int flags() {
            return random.nextInt(4) == 0 ? random.nextInt(256) : 0;
        }

        void request(String service, String method, byte[] payload, boolean mayBlock, String what) {
            Request.Builder request = Request.newBuilder().setService(service).setMethod(method).setPayload(ByteString.copyFrom(payload));
            int timeout = random.nextInt(10);
            if (mayBlock) {
                request.setTimeoutNano(1 + random.nextInt(50_000_000)); // up to 50 ms
            } else if (timeout == 0) {
                request.setTimeoutNano(1 + random.nextInt(10_000_000)); // may expire before the answer
            } else if (timeout == 1) {
                request.setTimeoutNano(random.nextBoolean() ? Long.MAX_VALUE : -1 - random.nextInt(1000));
            }
            for (int i = 0, n = random.nextInt(4) == 0 ? random.nextInt(4) : 0; i < n; i++) {
                request.addMetadata(KeyValue.newBuilder().setKey(random.nextBoolean() ? "" : "k" + random.nextInt(3)).setValue("v" + i));
            }
            owe(add(TYPE_REQUEST, streamId(), flags(), request.build().toByteArray(), what));
        }

        void garbageEnvelope() {
            byte[] envelope = RandomMessages.payload(Request.getDescriptor(), random);
            owe(add(TYPE_REQUEST, streamId(), flags(), envelope, "random envelope"));
        }

        void data() {
            int id = used.isEmpty() || random.nextBoolean() ? random.nextInt() : used.get(random.nextInt(used.size()));
            add(TYPE_DATA, id, random.nextInt(8), RandomMessages.junk(random, random.nextInt(32)), "data");
        }

        void closing() {
            boolean responseType = random.nextBoolean();
            int type = responseType ? TYPE_RESPONSE : 4 + random.nextInt(252);
            add(type, streamId(), flags(), RandomMessages.junk(random, random.nextInt(16)), responseType ? "response frame" : "unknown type " + type);
            ending = Ending.CLOSED_BY_SERVER;
        }

        void oversized() {
            int id = streamId();
            long length = MAX_DATA + 1L + (random.nextBoolean() ? 0 : (long) random.nextInt(Integer.MAX_VALUE));
            int type = random.nextInt(256);
            frames.add(ByteBuffer.allocate(10).putInt((int) length).putInt(id).put((byte) type).put((byte) 0).array());
            described.add("stream " + Integer.toUnsignedString(id) + ": header announcing " + length + " bytes");
            owe(id);
            ending = Ending.OVERSIZED;
        }

        private int add(int type, int streamId, int flags, byte[] data, String what) {
            frames.add(ByteBuffer.allocate(10 + data.length).putInt(data.length).putInt(streamId).put((byte) type).put((byte) flags)
                    .put(data).array());
            described.add("stream " + Integer.toUnsignedString(streamId) + " type " + type + " flags " + flags + ": " + what);
            return streamId;
        }

        private void owe(int streamId) {
            owed.merge(streamId, 1, Integer::sum);
        }

        HostileSession build() {
            return new HostileSession(List.copyOf(frames), Map.copyOf(owed), ending, List.copyOf(described));
        }
    }
}
