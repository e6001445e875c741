package dev.katashim.shim.oci;

import dev.katashim.ttrpc.status.StatusCode;
import dev.katashim.ttrpc.status.TtrpcException;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;

/**
 * A host path taken from a request (a bundle, a sandbox's bundle path): one Java cannot make a
 * path of (a NUL byte) is refused as INVALID_ARGUMENT naming the field, not left to surface as an
 * unexplained InvalidPathException.
 */
public final class HostPath {
    private HostPath() {
    }

    /** {@code value} as a path; {@code what} names it in the refusal ("bundle"). */
    public static Path of(String value, String what) {
        try {
            return Path.of(value);
        } catch (InvalidPathException e) {
            throw TtrpcException.of(StatusCode.INVALID_ARGUMENT, "%s %s is not a valid path: %s", what, quoted(value), e.getReason());
        }
    }

    /** {@code value} as an absolute path: a relative one would be read from wherever the shim runs. */
    public static Path absolute(String value, String what) {
        Path path = of(value, what);
        if (!path.isAbsolute()) {
            throw TtrpcException.of(StatusCode.INVALID_ARGUMENT, "%s %s must be an absolute path", what, quoted(value));
        }
        return path;
    }

    /** In quotes, control characters escaped: a message stays one readable line. */
    public static String quoted(String value) {
        StringBuilder s = new StringBuilder("'");
        value.chars().forEach(c -> s.append(c < 0x20 ? String.format("\\x%02x", c) : String.valueOf((char) c)));
        return s.append('\'').toString();
    }
}
