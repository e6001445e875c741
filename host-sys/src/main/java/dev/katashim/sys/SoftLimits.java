package dev.katashim.sys;

import java.util.OptionalLong;

/** The soft limits of {@code /proc/<pid>/limits}. */
public final class SoftLimits {
    /** RLIMIT_NOFILE: how many file descriptors the process may open. */
    public static final String MAX_OPEN_FILES = "Max open files";
    /** RLIMIT_AS: how much virtual memory the process may map, in bytes. */
    public static final String MAX_ADDRESS_SPACE = "Max address space";
    /** "unlimited": the kernel's RLIM_INFINITY, 2^64-1, which as a signed long is -1 (see {@link Unsigned#toDouble}). */
    public static final long UNLIMITED = -1L;

    private SoftLimits() {
    }

    /** The soft value of limit {@code name} ({@link #MAX_OPEN_FILES}, ...) in a limits file's text; empty when absent. */
    public static OptionalLong parse(String limitsText, String name) {
        for (String line : limitsText.split("\n")) {
            if (line.startsWith(name + " ")) {
                String soft = line.substring(name.length()).trim().split("\\s+")[0];
                try {
                    return OptionalLong.of(soft.equals("unlimited") ? UNLIMITED : Long.parseLong(soft));
                } catch (NumberFormatException e) {
                    return OptionalLong.empty();
                }
            }
        }
        return OptionalLong.empty();
    }
}
