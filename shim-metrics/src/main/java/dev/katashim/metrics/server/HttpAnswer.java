package dev.katashim.metrics.server;

import java.nio.charset.StandardCharsets;

/** A complete HTTP answer: status, content type, body, and an optional {@code Allow} header (405). */
public record HttpAnswer(int status, String contentType, byte[] body, String allow) {
    public static final String TEXT = "text/plain; charset=utf-8";

    public static HttpAnswer text(int status, String body) {
        return new HttpAnswer(status, TEXT, body.getBytes(StandardCharsets.UTF_8), null);
    }

    public static HttpAnswer of(int status, String contentType, String body) {
        return new HttpAnswer(status, contentType, body.getBytes(StandardCharsets.UTF_8), null);
    }

    public static HttpAnswer methodNotAllowed(String method, String allow) {
        return new HttpAnswer(405, TEXT, ("method " + method + " not allowed; use " + allow + "\n").getBytes(StandardCharsets.UTF_8), allow);
    }

    public static HttpAnswer notFound(String path) {
        return text(404, "no such resource: " + path + "\n");
    }
}
