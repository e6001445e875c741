package dev.katashim.metrics.server;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * HTTP/1.1 requests a management-socket client may send, each with the answer the server owes it
 * (from the rules of {@link ManagementServer}): well-formed ones in any method, path, query, Accept,
 * extra headers and bodies; and the ones that end a connection (Connection: close, HTTP/1.0, a line,
 * headers or a declared length the server refuses).
 */
final class HttpRequests {
    static final String AGENT_URL = "vsock://3:1024";

    /**
     * One request and its owed answer: {@code status}, a fragment of the body ({@code ""}: any),
     * whether the server then closes the connection; {@code head}: its answer has no body.
     */
    record Request(byte[] bytes, int status, String bodyFragment, boolean closes, boolean head, String what) {
        @Override
        public String toString() {
            return what;
        }
    }

    private HttpRequests() {
    }

    /** A connection's worth: up to {@code max} keep-alive requests, then maybe one that ends the connection. */
    static List<Request> session(Random random, int max) {
        List<Request> requests = new ArrayList<>();
        for (int i = 0, n = random.nextInt(max + 1); i < n; i++) {
            requests.add(wellFormed(random, i, false, "HTTP/1.1"));
        }
        switch (random.nextInt(8)) {
            case 0 -> requests.add(wellFormed(random, requests.size(), true, "HTTP/1.1"));
            case 1 -> requests.add(wellFormed(random, requests.size(), false, "HTTP/1.0"));
            case 2 -> requests.add(refused(random));
            default -> {
            }
        }
        return requests;
    }

    static Request wellFormed(Random random, int index, boolean close, String version) {
        String method = pick(random, "GET", "GET", "GET", "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "BREW");
        String path = switch (random.nextInt(5)) {
            case 0 -> "/metrics";
            case 1 -> "/agent-url";
            default -> "/nothing-" + index + pick(random, "", "/", "/a.b", "/%41", "/~x", "/" + "p".repeat(random.nextInt(200)));
        };
        String query = random.nextInt(3) == 0 ? "?" + pick(random, "", "a=1", "x=%zz", "&&", "q=" + random.nextInt()) : "";
        StringBuilder head = new StringBuilder(method + " " + path + query + " " + version + "\r\n");
        head.append("Host: ").append(pick(random, "localhost", "x", "")).append("\r\n");
        if (random.nextBoolean()) {
            head.append("Accept: ").append(pick(random, "application/openmetrics-text; version=1.0.0; charset=utf-8",
                    "application/openmetrics-text", "text/plain;version=0.0.4", "*/*", "", ";;;", "application/openmetrics-text;q=0",
                    "text/html, application/openmetrics-text;version=9", "\u00e9")).append("\r\n");
        }
        for (int h = 0, n = random.nextInt(4); h < n; h++) {
            head.append("X-Fuzz-").append(h).append(": ").append(pick(random, "", "v", "a b c", "x".repeat(random.nextInt(500)))).append("\r\n");
        }
        if (close) {
            head.append("Connection: close\r\n");
        } else if (version.equals("HTTP/1.1") && random.nextInt(4) == 0) {
            head.append("Connection: keep-alive\r\n");
        }
        String body = "";
        boolean chunked = false;
        if (random.nextInt(4) == 0) {
            body = "b".repeat(random.nextInt(2000));
            chunked = version.equals("HTTP/1.1") && random.nextBoolean();
            head.append(chunked ? "Transfer-Encoding: chunked\r\n" : "Content-Length: " + body.length() + "\r\n");
        }
        head.append("\r\n");
        if (chunked) {
            if (!body.isEmpty()) {
                head.append(Integer.toHexString(body.length())).append("\r\n").append(body).append("\r\n");
            }
            head.append("0\r\n\r\n");
        } else {
            head.append(body);
        }
        int status;
        String fragment;
        switch (path) {
            case "/metrics" -> {
                status = method.equals("GET") ? 200 : 405;
                fragment = method.equals("GET") ? "kata_shim" : "not allowed";
            }
            case "/agent-url" -> {
                status = method.equals("GET") ? 200 : 405;
                fragment = method.equals("GET") ? AGENT_URL : "not allowed";
            }
            default -> {
                status = 404;
                fragment = "no such resource: " + path;
            }
        }
        boolean head0 = method.equals("HEAD");
        return new Request(head.toString().getBytes(StandardCharsets.UTF_8), status, head0 ? "" : fragment,
                close || version.equals("HTTP/1.0"), head0, method + " " + path + query + " " + version + (close ? " close" : ""));
    }

    /** A request the server refuses, naming why, and then closes the connection. */
    static Request refused(Random random) {
        return switch (random.nextInt(5)) {
            case 4 -> new Request(("PUT /metrics HTTP/1.1\r\nContent-Length: " + (HttpService.MAX_BODY + 1 + random.nextInt(1000)) + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII), 413, "request body too large", true, false, "a body over the limit");
            case 0 -> new Request(("GET /" + "x".repeat(HttpService.MAX_REQUEST_LINE + random.nextInt(5000)) + " HTTP/1.1\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII), 400, "request line too long", true, false, "a request line over the limit");
            case 1 -> new Request(("GET /metrics HTTP/1.1\r\nX-Big: " + "h".repeat(HttpService.MAX_HEADERS + random.nextInt(5000)) + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII), 431, "request headers too large", true, false, "headers over the limit");
            case 2 -> new Request(("POST /metrics HTTP/1.1\r\nContent-Length: " + pick(random, "abc", "-1", "1, 2", "99999999999999999999")
                    + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII), 400, "malformed request", true, false, "a bad Content-Length");
            default -> new Request(("GET /metrics HTTP/1.1\r\nBad Header Line\r\n\r\n").getBytes(StandardCharsets.US_ASCII),
                    400, "malformed request", true, false, "a header line without a colon");
        };
    }

    @SafeVarargs
    private static <T> T pick(Random random, T... choices) {
        return choices[random.nextInt(choices.length)];
    }
}
