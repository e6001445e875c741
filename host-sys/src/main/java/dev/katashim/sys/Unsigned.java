package dev.katashim.sys;

/** The kernel's unsigned 64-bit counters, held in Java's signed longs. */
public final class Unsigned {
    private Unsigned() {
    }

    /** {@code value} read as unsigned, as a double (2^64-1 is 1.8446744073709552E19, as Go's clients report it). */
    public static double toDouble(long value) {
        return value >= 0 ? value : (value >>> 1) * 2.0 + (value & 1);
    }
}
