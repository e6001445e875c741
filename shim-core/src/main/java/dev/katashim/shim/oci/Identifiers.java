package dev.katashim.shim.oci;

import dev.katashim.ttrpc.status.StatusCode;
import dev.katashim.ttrpc.status.TtrpcException;

import java.util.regex.Pattern;

/**
 * The ids containerd gives the shim (container, exec and sandbox ids, and the sandbox id a pod
 * container's annotations name), checked by containerd's own identifiers rule: letters and digits,
 * runs of them joined by single {@code .}, {@code _} or {@code -}, at most 76 characters. An id
 * that passes is one path component that cannot be {@code .}, {@code ..} or hold a {@code /}, and
 * short enough that every socket path built from it stays within a unix socket's 108 bytes.
 */
public final class Identifiers {
    /** containerd's maximum (pkg/identifiers). */
    public static final int MAX_LENGTH = 76;
    private static final Pattern RULE = Pattern.compile("[A-Za-z0-9]+(?:[._-][A-Za-z0-9]+)*");
    /** How much of a refused id an error message quotes. */
    private static final int QUOTED = 80;

    private Identifiers() {
    }

    /** {@code id} if valid; else INVALID_ARGUMENT "invalid {what} '...': why". */
    public static String check(String what, String id) {
        if (id.isEmpty()) {
            throw TtrpcException.of(StatusCode.INVALID_ARGUMENT, "invalid %s '': must not be empty", what);
        }
        if (id.length() > MAX_LENGTH) {
            throw TtrpcException.of(StatusCode.INVALID_ARGUMENT, "invalid %s '%s': %d characters, more than the %d containerd allows",
                    what, quoted(id), id.length(), MAX_LENGTH);
        }
        if (!RULE.matcher(id).matches()) {
            throw TtrpcException.of(StatusCode.INVALID_ARGUMENT,
                    "invalid %s '%s': must be letters and digits joined by single '.', '_' or '-' (containerd's identifier rule)",
                    what, quoted(id));
        }
        return id;
    }

    /** Whether {@code id} passes {@link #check}. */
    public static boolean isValid(String id) {
        return !id.isEmpty() && id.length() <= MAX_LENGTH && RULE.matcher(id).matches();
    }

    private static String quoted(String id) {
        String shown = id.length() > QUOTED ? id.substring(0, QUOTED) + "..." : id;
        // a control character in a log line or status would let the sender forge lines
        return shown.codePoints().mapToObj(c -> Character.isISOControl(c) ? String.format("\\x%02x", c) : Character.toString(c))
                .reduce("", String::concat);
    }
}
