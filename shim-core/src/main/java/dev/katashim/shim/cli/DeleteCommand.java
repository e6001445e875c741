package dev.katashim.shim.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.katashim.protocols.containerd.task.v2.DeleteResponse;
import dev.katashim.shim.events.TaskEvents;
import dev.katashim.shim.oci.ContainerType;
import dev.katashim.shim.resource.SandboxResources;
import dev.katashim.shim.sandbox.Leftovers;
import dev.katashim.shim.sandbox.SandboxDirectory;
import dev.katashim.sys.UnixSocketFile;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;

/**
 * {@code delete}: containerd runs it after every task's connection closes, and after a shim died.
 * When the shim serving the sandbox is gone, it kills what that shim started (the hypervisor or
 * host agent, and the agent's runc containers), unmounts the rootfs and removes the sandbox
 * directory. It is idempotent, leaves a live shim's sandbox alone, and reports exit status 137
 * as upstream, in a {@code DeleteResponse} on stdout. containerd kills it after 5 s.
 */
final class DeleteCommand {
    private static final Logger log = LoggerFactory.getLogger(DeleteCommand.class);
    private static final int KILLED_STATUS = 137;

    private DeleteCommand() {
    }

    static int run(ShimArgs args, PrintStream out) {
        Path bundle = Path.of(args.bundle().isEmpty() ? System.getProperty("user.dir") : args.bundle());
        try {
            SandboxDirectory sandbox = SandboxDirectory.of(SandboxDirectory.root(), sandboxId(args.id(), bundle));
            if (Leftovers.abandoned(sandbox)) {
                Leftovers.cleanUp(sandbox);
            }
            SandboxResources.unmountLeftoverRootfs(bundle);
            removeDeadShimSocket(bundle.resolve("address"));
        } catch (Exception e) {
            // still answer: containerd must be able to remove the task
            log.warn("delete {}: {}", args.id(), e.toString());
        }
        DeleteResponse response = DeleteResponse.newBuilder().setExitStatus(KILLED_STATUS)
                .setExitedAt(TaskEvents.timestamp(Instant.now())).setPid(0).build();
        try {
            response.writeTo(out);
        } catch (IOException e) {
            return 1;
        }
        out.flush();
        return 0;
    }

    private static String sandboxId(String id, Path bundle) {
        try {
            JsonNode annotations = new ObjectMapper().readTree(bundle.resolve("config.json").toFile()).path("annotations");
            Map<String, String> map = new HashMap<>();
            annotations.fields().forEachRemaining(e -> map.put(e.getKey(), e.getValue().asText()));
            return ContainerType.of(id, map).sandboxId();
        } catch (Exception e) {
            return id;
        }
    }

    /** A killed shim leaves its socket file behind; a live one (a pod's other containers) keeps it. */
    private static void removeDeadShimSocket(Path addressFile) throws IOException {
        if (!Files.isRegularFile(addressFile)) {
            return;
        }
        String address = Files.readString(addressFile).trim();
        if (address.startsWith("unix://")) {
            UnixSocketFile.removeIfDead(Path.of(address.substring("unix://".length())));
        }
    }
}
