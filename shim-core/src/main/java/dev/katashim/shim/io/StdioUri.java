package dev.katashim.shim.io;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A stdio string split the way Go's {@code net/url} splits it, because containerd and the Go shim decide the
 * sink by {@code url.Parse(stdout).Scheme}. A plain FIFO path has no scheme and is kept verbatim (no unescaping:
 * it is a file name, not a URI).
 *
 * @param scheme lower-cased scheme, "" for a plain path
 * @param path the unescaped URI path, or the verbatim string when there is no scheme
 * @param query the query's key/value pairs in order of appearance, unescaped ({@code +} is a space)
 */
record StdioUri(String scheme, String path, List<Pair> query) {

    record Pair(String key, String value) {}

    static StdioUri parse(String raw, String what) {
        String scheme = scheme(raw, what);
        if (scheme.isEmpty()) {
            return new StdioUri("", raw, List.of());
        }
        String rest = raw.substring(scheme.length() + 1);
        int hash = rest.indexOf('#');
        if (hash >= 0) {
            rest = rest.substring(0, hash);
        }
        String rawQuery = "";
        int question = rest.indexOf('?');
        if (question >= 0) {
            rawQuery = rest.substring(question + 1);
            rest = rest.substring(0, question);
        }
        if (rest.startsWith("//")) {
            // Skip the authority: binary:///usr/bin/logger has an empty host.
            int slash = rest.indexOf('/', 2);
            rest = slash < 0 ? "" : rest.substring(slash);
        } else if (!rest.startsWith("/")) {
            rest = ""; // opaque ("binary:logger"): Go leaves Path empty
        }
        try {
            return new StdioUri(scheme, unescape(rest, false), query(rawQuery));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unable to parse " + what + " uri " + raw + ": " + e.getMessage(), e);
        }
    }

    /** Go's getScheme: letters, then letters/digits/+-. up to ':'; anything else first means "no scheme". */
    private static String scheme(String raw, String what) {
        for (int i = 0; i < raw.length(); i++) {
            char c = raw.charAt(i);
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
                continue;
            }
            if ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.') {
                if (i == 0) {
                    return "";
                }
                continue;
            }
            if (c == ':') {
                if (i == 0) {
                    throw new IllegalArgumentException("unable to parse " + what + " uri " + raw
                            + ": missing protocol scheme");
                }
                return raw.substring(0, i).toLowerCase(Locale.ROOT);
            }
            return "";
        }
        return "";
    }

    /** Go's ParseQuery as url.Query() uses it: malformed pairs (bad escapes, ';') are skipped, not fatal. */
    private static List<Pair> query(String rawQuery) {
        List<Pair> pairs = new ArrayList<>();
        for (String piece : rawQuery.split("&", -1)) {
            if (piece.isEmpty() || piece.contains(";")) {
                continue;
            }
            int eq = piece.indexOf('=');
            String key = eq < 0 ? piece : piece.substring(0, eq);
            String value = eq < 0 ? "" : piece.substring(eq + 1);
            try {
                pairs.add(new Pair(unescape(key, true), unescape(value, true)));
            } catch (IllegalArgumentException skipped) {
                // as Go: the pair is dropped
            }
        }
        return List.copyOf(pairs);
    }

    private static String unescape(String s, boolean plusIsSpace) {
        if (s.indexOf('%') < 0 && !(plusIsSpace && s.indexOf('+') >= 0)) {
            return s;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(s.length());
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < bytes.length; i++) {
            byte b = bytes[i];
            if (b == '%') {
                if (i + 2 >= bytes.length) {
                    throw new IllegalArgumentException("invalid URL escape in " + s);
                }
                int hi = Character.digit(bytes[i + 1], 16);
                int lo = Character.digit(bytes[i + 2], 16);
                if (hi < 0 || lo < 0) {
                    throw new IllegalArgumentException("invalid URL escape in " + s);
                }
                out.write(hi << 4 | lo);
                i += 2;
            } else if (b == '+' && plusIsSpace) {
                out.write(' ');
            } else {
                out.write(b);
            }
        }
        return out.toString(StandardCharsets.UTF_8);
    }
}
