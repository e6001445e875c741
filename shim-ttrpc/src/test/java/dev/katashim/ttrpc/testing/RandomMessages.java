package dev.katashim.ttrpc.testing;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.DynamicMessage;

import java.util.List;
import java.util.Random;

/**
 * Random protobuf payloads of a given message type, as a confused or hostile peer sends them:
 * well-formed messages with odd values (empty, huge, path-like and non-ASCII strings, extreme
 * numbers, unknown enum numbers, nested messages a few levels deep), and mutations of them
 * (truncated, bytes flipped, junk appended) that may or may not parse.
 */
public final class RandomMessages {
    private static final int MAX_DEPTH = 4;
    private static final List<String> ODD_STRINGS = List.of("", " ", "/", "..", "../../etc/passwd", "a/b", "\0", "é中\uD83D\uDE00",
            "%s%n", "${jndi:x}", "-1", "9999999999999999999", "x".repeat(300), "\n\r\t");
    private static final long[] ODD_NUMBERS = {0, 1, -1, Integer.MAX_VALUE, Integer.MIN_VALUE, Long.MAX_VALUE, Long.MIN_VALUE,
            0xFFFF_FFFFL, 4 << 20};

    private RandomMessages() {
    }

    /** A well-formed message of {@code type}, serialized. */
    public static byte[] valid(Descriptor type, Random random) {
        return valid(type, random, List.of());
    }

    /** A well-formed message whose strings are often one of {@code words} (ids the server knows, paths that exist). */
    public static byte[] valid(Descriptor type, Random random, List<String> words) {
        return message(type, new Draw(random, words), 0).toByteArray();
    }

    /** Either a well-formed message or a mutation of one: what a payload fuzzer sends. */
    public static byte[] payload(Descriptor type, Random random) {
        return payload(type, random, List.of());
    }

    public static byte[] payload(Descriptor type, Random random, List<String> words) {
        byte[] valid = valid(type, random, words);
        return switch (random.nextInt(6)) {
            case 0 -> mutate(valid, random);
            case 1 -> junk(random, random.nextInt(64));
            default -> valid;
        };
    }

    public static byte[] junk(Random random, int length) {
        byte[] bytes = new byte[length];
        random.nextBytes(bytes);
        return bytes;
    }

    private static byte[] mutate(byte[] valid, Random random) {
        if (valid.length == 0) {
            return junk(random, 1 + random.nextInt(8));
        }
        return switch (random.nextInt(3)) {
            case 0 -> java.util.Arrays.copyOf(valid, random.nextInt(valid.length)); // truncated
            case 1 -> {
                byte[] flipped = valid.clone();
                for (int i = 0, n = 1 + random.nextInt(4); i < n; i++) {
                    flipped[random.nextInt(flipped.length)] ^= (byte) (1 << random.nextInt(8));
                }
                yield flipped;
            }
            default -> {
                byte[] longer = java.util.Arrays.copyOf(valid, valid.length + 1 + random.nextInt(16));
                for (int i = valid.length; i < longer.length; i++) {
                    longer[i] = (byte) random.nextInt(256);
                }
                yield longer;
            }
        };
    }

    /** The source of randomness and the words strings are drawn from. */
    private record Draw(Random random, List<String> words) {
    }

    private static DynamicMessage message(Descriptor type, Draw draw, int depth) {
        Random random = draw.random();
        DynamicMessage.Builder builder = DynamicMessage.newBuilder(type);
        for (FieldDescriptor field : type.getFields()) {
            if (random.nextInt(3) == 0) {
                continue; // absent
            }
            if (field.getJavaType() == FieldDescriptor.JavaType.MESSAGE && depth >= MAX_DEPTH) {
                continue;
            }
            if (field.getRealContainingOneof() != null && builder.getOneofFieldDescriptor(field.getRealContainingOneof()) != null) {
                continue;
            }
            if (field.isRepeated()) {
                for (int i = 0, n = random.nextInt(4); i < n; i++) {
                    builder.addRepeatedField(field, value(field, draw, depth));
                }
            } else {
                builder.setField(field, value(field, draw, depth));
            }
        }
        return builder.build();
    }

    private static Object value(FieldDescriptor field, Draw draw, int depth) {
        Random random = draw.random();
        return switch (field.getJavaType()) {
            case INT -> (int) number(random);
            case LONG -> number(random);
            case FLOAT -> random.nextBoolean() ? random.nextFloat() : Float.NaN;
            case DOUBLE -> random.nextBoolean() ? random.nextDouble() * 1e12 : Double.NEGATIVE_INFINITY;
            case BOOLEAN -> random.nextBoolean();
            case STRING -> !draw.words().isEmpty() && random.nextInt(3) == 0
                    ? draw.words().get(random.nextInt(draw.words().size())) : string(random);
            case BYTE_STRING -> ByteString.copyFrom(junk(random, random.nextInt(32)));
            case ENUM -> enumValue(field, random);
            case MESSAGE -> message(field.getMessageType(), draw, depth + 1);
        };
    }

    private static EnumValueDescriptor enumValue(FieldDescriptor field, Random random) {
        List<EnumValueDescriptor> values = field.getEnumType().getValues();
        if (!field.getEnumType().isClosed() && random.nextInt(5) == 0) {
            // a number this side does not know (open enums keep it)
            return field.getEnumType().findValueByNumberCreatingIfUnknown(1000 + random.nextInt(1000));
        }
        return values.get(random.nextInt(values.size()));
    }

    private static long number(Random random) {
        return random.nextBoolean() ? ODD_NUMBERS[random.nextInt(ODD_NUMBERS.length)] : random.nextLong() >> random.nextInt(64);
    }

    private static String string(Random random) {
        if (random.nextBoolean()) {
            return ODD_STRINGS.get(random.nextInt(ODD_STRINGS.size()));
        }
        StringBuilder s = new StringBuilder();
        for (int i = 0, n = random.nextInt(24); i < n; i++) {
            s.append((char) (random.nextBoolean() ? 'a' + random.nextInt(26) : random.nextInt(0xD7FF)));
        }
        return s.toString();
    }
}
