package dev.katashim.shim.io;

final class Closeables {
    private Closeables() {}

    /** For teardown paths, where a failing close has nothing left to report to. */
    static void closeQuietly(AutoCloseable c) {
        if (c != null) {
            try {
                c.close();
            } catch (Exception ignored) {
                // already closed, or the peer is gone: either way it is released
            }
        }
    }
}
