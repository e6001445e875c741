package dev.katashim.it.shim;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.katashim.it.support.CommandResult;
import dev.katashim.it.support.ExternalCommand;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** OCI bundles as containerd would lay them out, from runc's own template ({@code runc spec}). */
public final class OciBundles {
    private static final ObjectMapper JSON = new ObjectMapper();

    private OciBundles() {
    }

    /** A bundle in {@code dir} running {@code args} on {@code rootfs}, without a terminal, with these annotations. */
    public static Path create(Path dir, Path rootfs, Map<String, String> annotations, String... args) throws IOException {
        Files.createDirectories(dir);
        CommandResult spec = ExternalCommand.run(List.of("runc", "spec", "--bundle", dir.toString()), Duration.ofSeconds(10));
        if (!spec.succeeded()) {
            throw new IOException("runc spec failed: " + spec);
        }
        ObjectNode config = (ObjectNode) JSON.readTree(dir.resolve("config.json").toFile());
        ObjectNode process = (ObjectNode) config.get("process");
        process.put("terminal", false);
        process.putArray("args").addAll(List.of(args).stream().map(JSON.getNodeFactory()::textNode).toList());
        ((ObjectNode) config.get("root")).put("path", rootfs.toString()).put("readonly", false);
        ObjectNode notes = config.putObject("annotations");
        annotations.forEach(notes::put);
        JSON.writeValue(dir.resolve("config.json").toFile(), config);
        return dir;
    }
}
