package dev.katashim.ttrpc.transport;

import java.nio.file.Path;

/**
 * Where a ttrpc peer listens, in one syntax for every transport:
 * <ul>
 *   <li>{@code unix:///run/x.sock} — a unix socket file</li>
 *   <li>{@code unix://@name} — an abstract unix socket (Linux)</li>
 *   <li>{@code vsock://CID:PORT} — AF_VSOCK; {@code vsock://-1:1024} listens on any CID</li>
 *   <li>{@code hvsock:///run/vm/kata.hvsock:1024} — hybrid vsock: a unix socket on which the
 *       client first says {@code CONNECT <port>\n} and reads {@code OK <n>\n}</li>
 * </ul>
 */
public sealed interface Endpoint {

    record UnixPath(Path path) implements Endpoint {
        @Override
        public String toString() {
            return "unix://" + path.toAbsolutePath();
        }
    }

    record AbstractUnix(String name) implements Endpoint {
        @Override
        public String toString() {
            return "unix://@" + name;
        }
    }

    record Vsock(int cid, int port) implements Endpoint {
        /** VMADDR_CID_ANY: listen on every CID of this host. */
        public static final int ANY_CID = -1;

        @Override
        public String toString() {
            return "vsock://" + cid + ":" + port;
        }
    }

    record HybridVsock(Path path, int port) implements Endpoint {
        @Override
        public String toString() {
            return "hvsock://" + path.toAbsolutePath() + ":" + port;
        }
    }

    static Endpoint parse(String address) {
        if (address.startsWith("unix://@")) {
            return new AbstractUnix(requireNonEmpty(address.substring("unix://@".length()), address));
        }
        if (address.startsWith("unix://")) {
            return new UnixPath(absolutePath(address.substring("unix://".length()), address));
        }
        if (address.startsWith("vsock://")) {
            String rest = address.substring("vsock://".length());
            int colon = rest.lastIndexOf(':');
            if (colon <= 0) {
                throw invalid(address, "expected vsock://CID:PORT");
            }
            return new Vsock(parseInt(rest.substring(0, colon), address), parsePort(rest.substring(colon + 1), address));
        }
        if (address.startsWith("hvsock://")) {
            String rest = address.substring("hvsock://".length());
            int colon = rest.lastIndexOf(':');
            if (colon <= 0) {
                throw invalid(address, "expected hvsock:///path:PORT");
            }
            return new HybridVsock(absolutePath(rest.substring(0, colon), address),
                    parsePort(rest.substring(colon + 1), address));
        }
        throw invalid(address, "expected unix:///path, unix://@name, vsock://CID:PORT or hvsock:///path:PORT");
    }

    private static Path absolutePath(String path, String address) {
        if (!path.startsWith("/")) {
            throw invalid(address, "the socket path must be absolute");
        }
        return Path.of(path);
    }

    private static String requireNonEmpty(String value, String address) {
        if (value.isEmpty()) {
            throw invalid(address, "the abstract socket name is empty");
        }
        return value;
    }

    private static int parsePort(String text, String address) {
        int port = parseInt(text, address);
        if (port < 0) {
            throw invalid(address, "the port must not be negative");
        }
        return port;
    }

    private static int parseInt(String text, String address) {
        try {
            return Integer.parseInt(text);
        } catch (NumberFormatException e) {
            throw invalid(address, "'" + text + "' is not a number");
        }
    }

    private static IllegalArgumentException invalid(String address, String why) {
        return new IllegalArgumentException("invalid ttrpc endpoint '" + address + "': " + why);
    }
}
