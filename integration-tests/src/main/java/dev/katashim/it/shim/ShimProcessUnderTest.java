package dev.katashim.it.shim;

import dev.katashim.it.peers.TaskApiClient;
import dev.katashim.it.support.CommandResult;
import dev.katashim.it.support.ExternalCommand;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Our shim started the way containerd starts it ({@code containerd-shim-kata-v2 ... start} in the
 * bundle directory, address read from stdout), but driven by our own Task API client: for the
 * calls and bad inputs that ctr cannot make. No TTRPC_ADDRESS, so its events are only logged.
 */
public final class ShimProcessUnderTest {
    private ShimProcessUnderTest() {
    }

    /** bin/containerd-shim-kata-v2 of this checkout, from the repository root or a module directory. */
    public static Path launcher() {
        Path here = Path.of("").toAbsolutePath();
        Path launcher = here.resolve("bin/containerd-shim-kata-v2");
        return java.nio.file.Files.exists(launcher) ? launcher : here.getParent().resolve("bin/containerd-shim-kata-v2");
    }

    /** Runs {@code start} for container {@code id} in {@code bundle}; returns the printed address. */
    public static String start(Path bundle, String namespace, Path fakeContainerdAddress, String id, Map<String, String> env)
            throws IOException {
        CommandResult result = ExternalCommand.run(List.of("/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", bundle.toString(),
                        launcher().toString(), "-namespace", namespace, "-address", fakeContainerdAddress.toString(),
                        "-publish-binary", "/usr/bin/containerd", "-id", id, "start"),
                env, new byte[0], Duration.ofSeconds(20));
        if (!result.succeeded() || !result.stdout().startsWith("unix://")) {
            throw new IOException("start failed: " + result);
        }
        return result.stdout();
    }

    public static TaskApiClient connect(String address, String namespace) throws IOException {
        return TaskApiClient.connect(Path.of(address.substring("unix://".length())), namespace);
    }
}
