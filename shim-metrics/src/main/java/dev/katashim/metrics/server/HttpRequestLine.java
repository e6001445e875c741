package dev.katashim.metrics.server;

/** What a handler needs of a request: its method, path (without the query), query (or "") and Accept header. */
public record HttpRequestLine(String method, String path, String query, String accept) {
    /** The value of query parameter {@code name}, or null (no percent-decoding beyond what ids need). */
    public String parameter(String name) {
        for (String pair : query.split("&")) {
            int eq = pair.indexOf('=');
            if (eq > 0 && pair.substring(0, eq).equals(name)) {
                return java.net.URLDecoder.decode(pair.substring(eq + 1), java.nio.charset.StandardCharsets.UTF_8);
            }
        }
        return null;
    }
}
