package dev.katashim.it.cri;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.katashim.it.support.BusyboxRootfs;
import dev.katashim.it.support.CommandResult;
import dev.katashim.it.support.ExternalCommand;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An OCI image layout as a tar archive, made here from the host's static busybox (the machines have
 * no registry to pull from), for {@code ctr images import}. Several images may share the one layer:
 * they differ in their command only, like the pause image a CRI sandbox needs and a busybox to run.
 */
public final class OciImageArchive {
    public static final String LAYER_TYPE = "application/vnd.oci.image.layer.v1.tar";
    public static final String CONFIG_TYPE = "application/vnd.oci.image.config.v1+json";
    public static final String MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json";
    private static final Duration TAR_TIMEOUT = Duration.ofMinutes(1);
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One image: its full reference (registry/name:tag) and the command its config names. */
    public record Image(String reference, List<String> entrypoint) {
    }

    private OciImageArchive() {
    }

    /** Writes {@code images} into {@code dir} and returns the archive; {@code dir} keeps the layout it was made from. */
    public static Path build(Path dir, List<Image> images) {
        try {
            Path layout = Files.createDirectories(dir.resolve("layout"));
            Path blobs = Files.createDirectories(layout.resolve("blobs/sha256"));
            Path rootfs = BusyboxRootfs.create(dir.resolve("rootfs")).path();
            Path layerTar = dir.resolve("layer.tar");
            tar(rootfs, layerTar, ".");
            String layerDigest = digest(layerTar);
            long layerSize = Files.size(layerTar);
            Files.move(layerTar, blobs.resolve(layerDigest));

            List<Object> manifests = new ArrayList<>();
            for (Image image : images) {
                Map<String, Object> config = Map.of(
                        "architecture", "amd64",
                        "os", "linux",
                        "config", Map.of("Env", List.of("PATH=/bin"), "Entrypoint", image.entrypoint(), "WorkingDir", "/"),
                        "rootfs", Map.of("type", "layers", "diff_ids", List.of("sha256:" + layerDigest)));
                Descriptor configBlob = writeBlob(blobs, CONFIG_TYPE, JSON.writeValueAsBytes(config));
                Map<String, Object> manifest = Map.of(
                        "schemaVersion", 2,
                        "mediaType", MANIFEST_TYPE,
                        "config", configBlob.json(),
                        "layers", List.of(new Descriptor(LAYER_TYPE, layerDigest, layerSize).json()));
                Descriptor manifestBlob = writeBlob(blobs, MANIFEST_TYPE, JSON.writeValueAsBytes(manifest));
                Map<String, Object> entry = new LinkedHashMap<>(manifestBlob.json());
                entry.put("platform", Map.of("architecture", "amd64", "os", "linux"));
                // ctr import names the image by this annotation
                entry.put("annotations", Map.of("io.containerd.image.name", image.reference(),
                        "org.opencontainers.image.ref.name", image.reference().substring(image.reference().lastIndexOf(':') + 1)));
                manifests.add(entry);
            }
            Files.writeString(layout.resolve("oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}");
            Files.write(layout.resolve("index.json"),
                    JSON.writeValueAsBytes(Map.of("schemaVersion", 2, "manifests", manifests)));
            Path archive = dir.resolve("images.tar");
            tar(layout, archive, "oci-layout", "index.json", "blobs");
            return archive;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot build an OCI image archive in " + dir, e);
        }
    }

    private record Descriptor(String mediaType, String hexDigest, long size) {
        Map<String, Object> json() {
            return Map.of("mediaType", mediaType, "digest", "sha256:" + hexDigest, "size", size);
        }
    }

    private static Descriptor writeBlob(Path blobs, String mediaType, byte[] content) throws IOException {
        String digest = HexFormat.of().formatHex(sha256().digest(content));
        Files.write(blobs.resolve(digest), content);
        return new Descriptor(mediaType, digest, content.length);
    }

    /** Numeric owners, root's: the layer must not carry the build user's names. */
    private static void tar(Path from, Path archive, String... entries) {
        List<String> command = new ArrayList<>(List.of("tar", "--numeric-owner", "--owner=0", "--group=0",
                "-C", from.toString(), "-cf", archive.toString()));
        command.addAll(List.of(entries));
        CommandResult result = ExternalCommand.run(command, TAR_TIMEOUT);
        if (!result.succeeded()) {
            throw new IllegalStateException("tar failed: " + result);
        }
    }

    private static String digest(Path file) throws IOException {
        MessageDigest sha = sha256();
        try (InputStream in = new DigestInputStream(Files.newInputStream(file), sha)) {
            in.transferTo(java.io.OutputStream.nullOutputStream());
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
