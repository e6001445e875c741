package dev.katashim.shim.oci;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.katashim.ttrpc.status.StatusCode;
import dev.katashim.ttrpc.status.TtrpcException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

/** An OCI bundle as containerd lays it out: {@code config.json} and {@code rootfs/}. */
public record Bundle(Path path, JsonNode config) {
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * The bundle at {@code path} as containerd sends it: an absolute path without {@code .} or
     * {@code ..} components (containerd's are {@code <state>/<namespace>/<id>}), else INVALID_ARGUMENT
     * naming it; then {@link #read}.
     */
    public static Bundle open(String path) {
        Path bundle;
        try {
            bundle = Path.of(path);
        } catch (InvalidPathException e) {
            throw TtrpcException.of(StatusCode.INVALID_ARGUMENT, "invalid bundle path %s: %s", HostPath.quoted(path), e.getReason());
        }
        if (!bundle.isAbsolute() || !bundle.normalize().equals(bundle)) {
            throw TtrpcException.of(StatusCode.INVALID_ARGUMENT,
                    "invalid bundle path %s: must be absolute, without '.' or '..' components", HostPath.quoted(path));
        }
        return read(bundle);
    }

    /** Reads {@code config.json}; a missing or unparsable file is INVALID_ARGUMENT naming it. */
    public static Bundle read(Path path) {
        Path config = path.resolve("config.json");
        try {
            JsonNode tree = JSON.readTree(Files.readAllBytes(config));
            if (tree == null || !tree.isObject()) {
                throw new TtrpcException(StatusCode.INVALID_ARGUMENT, "cannot parse " + config + ": not a JSON object");
            }
            return new Bundle(path, tree);
        } catch (NoSuchFileException e) {
            throw new TtrpcException(StatusCode.INVALID_ARGUMENT, "the bundle has no config.json: " + config + " does not exist");
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            // a limit (nesting over 1000, a huge number) has no location
            String at = e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr();
            throw new TtrpcException(StatusCode.INVALID_ARGUMENT, "cannot parse " + config + ": " + e.getOriginalMessage() + at);
        } catch (IOException e) {
            throw new TtrpcException(StatusCode.INVALID_ARGUMENT, "cannot read " + config + ": " + e.getMessage());
        }
    }

    public Map<String, String> annotations() {
        Map<String, String> map = new TreeMap<>();
        config.path("annotations").fields().forEachRemaining(e -> map.put(e.getKey(), e.getValue().asText()));
        return map;
    }

    public JsonNode process() {
        return config.path("process");
    }

    /** The root filesystem as an absolute host path (a relative root.path is relative to the bundle). */
    public Path rootPath() {
        return path.resolve(rootPathText()).normalize();
    }

    private String rootPathText() {
        return config.path("root").path("path").asText("rootfs");
    }

    /** Where containerd's rootfs mounts go: {@code <bundle>/rootfs}. */
    public Path mountedRoot() {
        return path.resolve("rootfs");
    }

    /**
     * Refuses (INVALID_ARGUMENT, naming the path) a root filesystem that would make the shim mount on,
     * or share with the guest, a host path the bundle does not hold. With {@code mounts} (containerd's
     * snapshot): {@code <bundle>/rootfs} must be a directory, not a symlink (mount(8) follows one).
     * Without: a relative root.path must stay in the bundle, {@code ..} and symlinks resolved (a missing
     * one is left for runc to name); an absolute root.path is the client's explicit choice
     * ({@code ctr run --rootfs <dir>}) and must be a directory.
     */
    public void checkRoot(boolean mounts) {
        try {
            checkRootPath(mounts);
        } catch (InvalidPathException e) {
            throw new TtrpcException(StatusCode.INVALID_ARGUMENT, "invalid root.path: " + e.getMessage());
        }
    }

    private void checkRootPath(boolean mounts) {
        if (mounts) {
            Path target = mountedRoot();
            if (Files.isSymbolicLink(target)) {
                throw TtrpcException.of(StatusCode.INVALID_ARGUMENT,
                        "rootfs %s is a symlink (to %s): the root filesystem mounts go on a directory of the bundle", target, linkTarget(target));
            }
            if (!Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
                throw TtrpcException.of(StatusCode.INVALID_ARGUMENT, "rootfs %s is not a directory of the bundle", target);
            }
            return;
        }
        String given = rootPathText();
        boolean relative = !Path.of(given).isAbsolute();
        Path root = rootPath();
        if (relative && !root.startsWith(path)) {
            throw TtrpcException.of(StatusCode.INVALID_ARGUMENT, "root.path '%s' is %s, outside the bundle %s: refused", given, root, path);
        }
        if (!Files.exists(root)) {
            return; // runc names it when it creates the container
        }
        try {
            Path real = root.toRealPath();
            if (relative && !real.startsWith(path.toRealPath())) {
                throw TtrpcException.of(StatusCode.INVALID_ARGUMENT,
                        "root.path '%s' resolves to %s, outside the bundle %s (a symlink): refused", given, real, path);
            }
            if (!Files.isDirectory(real)) {
                throw TtrpcException.of(StatusCode.INVALID_ARGUMENT, "root.path '%s' (%s) is not a directory", given, real);
            }
        } catch (IOException e) {
            throw TtrpcException.of(StatusCode.INVALID_ARGUMENT, "cannot resolve root.path '%s' (%s): %s", given, root, e.getMessage());
        }
    }

    private static String linkTarget(Path link) {
        try {
            return Files.readSymbolicLink(link).toString();
        } catch (IOException e) {
            return "?";
        }
    }

    public static JsonNode parseJson(byte[] json, String what) {
        try {
            return JSON.readTree(json);
        } catch (IOException e) {
            throw new TtrpcException(StatusCode.INVALID_ARGUMENT, "cannot parse " + what + ": " + e.getMessage());
        }
    }
}
