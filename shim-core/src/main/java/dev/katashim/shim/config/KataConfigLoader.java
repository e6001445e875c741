package dev.katashim.shim.config;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.toml.TomlMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * Finds and reads Kata's configuration file, in upstream's order: containerd's {@code ConfigPath}
 * runtime option, then {@code KATA_CONF_FILE}, then {@code /etc/kata-containers/configuration.toml},
 * then {@code /usr/share/defaults/kata-containers/configuration.toml} (which the setup script installs).
 */
public final class KataConfigLoader {
    public static final Path ETC = Path.of("/etc/kata-containers/configuration.toml");
    public static final Path DEFAULTS = Path.of("/usr/share/defaults/kata-containers/configuration.toml");
    /** Upstream's configuration is ~30 KiB; a larger file is a mistake (or /dev/zero), not read into memory. */
    public static final int MAX_BYTES = 1 << 20;
    private static final TomlMapper TOML = new TomlMapper();

    private KataConfigLoader() {
    }

    /** The file to use: an explicit one must exist; the standard locations are tried in turn. */
    public static Path locate(Optional<Path> fromRuntimeOptions, String kataConfFileEnv) {
        if (fromRuntimeOptions.isPresent()) {
            return fromRuntimeOptions.get();
        }
        if (kataConfFileEnv != null && !kataConfFileEnv.isBlank()) {
            return Path.of(kataConfFileEnv);
        }
        for (Path candidate : List.of(ETC, DEFAULTS)) {
            if (Files.isRegularFile(candidate)) {
                return candidate;
            }
        }
        throw new ConfigException("no Kata configuration file: none given by the ConfigPath runtime option or KATA_CONF_FILE, and neither "
                + ETC + " nor " + DEFAULTS + " exists (scripts/setup installs the default)");
    }

    public static KataConfig load(Optional<Path> fromRuntimeOptions) {
        return load(locate(fromRuntimeOptions, System.getenv("KATA_CONF_FILE")));
    }

    public static KataConfig load(Path file) {
        JsonNode root;
        try {
            root = TOML.readTree(read(file));
        } catch (NoSuchFileException e) {
            throw new ConfigException("Kata configuration file " + file + " does not exist");
        } catch (JsonProcessingException e) {
            JsonLocation at = e.getLocation();
            String where = at == null ? "" : ":" + at.getLineNr() + ":" + at.getColumnNr();
            throw new ConfigException("syntax error in " + file + where + ": " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new ConfigException("cannot read Kata configuration file " + file + ": " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new ConfigException(file + ": empty configuration");
        }
        return new KataConfig(file, hypervisor(file, root.path("hypervisor")), agent(file, root),
                new KataConfig.Runtime(root.path("runtime").path("enable_debug").asBoolean(false),
                        root.path("runtime").path("sandbox_cgroup_only").asBoolean(false),
                        seconds(file + " [runtime]", root.path("runtime"), "metrics_refresh_period",
                                KataConfig.Runtime.DEFAULT_METRICS_REFRESH)));
    }

    /** The file's text: a regular file of at most {@link #MAX_BYTES}, read no further than that. */
    private static String read(Path file) throws IOException {
        if (Files.exists(file) && !Files.isRegularFile(file)) {
            throw new ConfigException("Kata configuration file " + file + " is not a regular file");
        }
        try (var in = Files.newInputStream(file)) {
            byte[] bytes = in.readNBytes(MAX_BYTES + 1);
            if (bytes.length > MAX_BYTES) {
                throw new ConfigException("Kata configuration file " + file + " is larger than " + MAX_BYTES + " bytes");
            }
            return new String(bytes, java.nio.charset.StandardCharsets.UTF_8);
        }
    }

    private static HypervisorSettings hypervisor(Path file, JsonNode sections) {
        List<String> names = new ArrayList<>();
        sections.fieldNames().forEachRemaining(names::add);
        if (names.size() != 1) {
            throw new ConfigException(file + ": expected exactly one [hypervisor.<name>] section, found "
                    + (names.isEmpty() ? "none" : String.join(", ", names)));
        }
        String name = names.getFirst();
        JsonNode section = sections.path(name);
        String where = file + " [hypervisor." + name + "]";
        return switch (name) {
            case "qemu" -> qemu(where, section);
            case "none" -> new HypervisorSettings.None(words(section.path("agent").asText("")));
            default -> throw new ConfigException(where + ": unknown hypervisor name \"" + name
                    + "\" (this shim supports qemu, and none for the no-VM sandbox)");
        };
    }

    private static HypervisorSettings.Qemu qemu(String where, JsonNode q) {
        Path kernel = requiredPath(where, q, "kernel");
        Path initrd = optionalPath(where, q, "initrd");
        Path image = optionalPath(where, q, "image");
        if (initrd == null && image == null) {
            throw new ConfigException(where + ": needs initrd or image");
        }
        String rootfsDriver = q.path("vm_rootfs_driver").asText("virtio-pmem");
        if (!List.of("virtio-pmem", "virtio-blk-pci", "virtio-blk").contains(rootfsDriver)) {
            throw new ConfigException(where + ": vm_rootfs_driver = \"" + rootfsDriver + "\" is not one of virtio-pmem, virtio-blk-pci");
        }
        String rootfsType = q.path("rootfs_type").asText("ext4");
        if (!List.of("ext4", "xfs", "erofs").contains(rootfsType)) {
            throw new ConfigException(where + ": rootfs_type = \"" + rootfsType + "\" is not one of ext4, xfs, erofs");
        }
        return new HypervisorSettings.Qemu(
                path(where, "path", q.path("path").asText("/usr/bin/qemu-system-x86_64")), kernel, initrd, image,
                rootfsDriver, rootfsType,
                q.path("machine_type").asText("q35"),
                positive(where, q, "default_vcpus", 1),
                positive(where, q, "default_memory", 2048),
                HypervisorSettings.SharedFs.of(q.path("shared_fs").asText("virtio-9p"), where),
                words(q.path("kernel_params").asText("")),
                q.path("enable_debug").asBoolean(false),
                q.path("accelerator").asText("auto"),
                q.path("disable_guest_seccomp").asBoolean(true),
                q.path("reclaim_guest_freed_memory").asBoolean(false));
    }

    private static KataConfig.Agent agent(Path file, JsonNode root) {
        JsonNode kata = root.path("agent").path("kata");
        long dial = kata.path("dial_timeout").asLong(45);
        // upstream's key is enable_debug; debug is accepted too
        boolean debug = kata.path("enable_debug").asBoolean(false) || kata.path("debug").asBoolean(false);
        // runtime-rs's place for it first, then the Go runtime's
        Duration create = kata.has("create_container_timeout")
                ? seconds(file + " [agent.kata]", kata, "create_container_timeout", null)
                : seconds(file + " [runtime]", root.path("runtime"), "create_container_timeout",
                        KataConfig.Agent.DEFAULT_CREATE_CONTAINER_TIMEOUT);
        return new KataConfig.Agent(Duration.ofSeconds(dial <= 0 ? 45 : dial), debug, create);
    }

    private static Path requiredPath(String where, JsonNode section, String key) {
        Path path = optionalPath(where, section, key);
        if (path == null) {
            throw new ConfigException(where + ": " + key + " is required");
        }
        return path;
    }

    private static Path optionalPath(String where, JsonNode section, String key) {
        String value = section.path(key).asText("");
        return value.isBlank() ? null : path(where, key, value);
    }

    private static Path path(String where, String key, String value) {
        try {
            return Path.of(value);
        } catch (java.nio.file.InvalidPathException e) {
            throw new ConfigException(where + ": " + key + " " + dev.katashim.shim.oci.HostPath.quoted(value) + " is not a valid path: " + e.getReason());
        }
    }

    /** A positive number of seconds (fractions allowed: 0.5 is 500 ms), at most an hour. */
    private static Duration seconds(String where, JsonNode section, String key, Duration fallback) {
        JsonNode value = section.path(key);
        if (value.isMissingNode()) {
            return fallback;
        }
        if (!value.isNumber() || value.asDouble() <= 0 || value.asDouble() > 3600) {
            throw new ConfigException(where + ": " + key + " must be a number of seconds between 0 and 3600, not " + value);
        }
        return Duration.ofNanos((long) (value.asDouble() * 1e9));
    }

    private static int positive(String where, JsonNode section, String key, int fallback) {
        JsonNode value = section.path(key);
        if (value.isMissingNode()) {
            return fallback;
        }
        if (!value.canConvertToInt() || value.asInt() <= 0) {
            throw new ConfigException(where + ": " + key + " must be a positive number, not " + value);
        }
        return value.asInt();
    }

    private static List<String> words(String text) {
        return text.isBlank() ? List.of() : Arrays.asList(text.trim().split("\\s+"));
    }
}
