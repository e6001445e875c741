package dev.katashim.it.support;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** Where containerd 1.6's shims put their ttrpc sockets: a fixed directory, whatever containerd's state dir. */
public final class ShimSockets {

    public static final Path DIRECTORY = Path.of("/run/containerd/s");

    private ShimSockets() {
    }

    /** {@code /run/containerd/s/<hex sha256 of "<grpc address>/<namespace>/<id or group>">}. */
    public static Path pathFor(Path grpcAddress, String namespace, String id) {
        String key = grpcAddress + "/" + namespace + "/" + id;
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
            return DIRECTORY.resolve(HexFormat.of().formatHex(digest));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
