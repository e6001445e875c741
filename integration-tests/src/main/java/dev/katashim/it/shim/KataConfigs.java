package dev.katashim.it.shim;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Kata configuration files for the tests, the demo and the benchmarks. */
public final class KataConfigs {
    private KataConfigs() {
    }

    /** The no-VM sandbox: our agent on the host (no VM isolation), as a file in {@code dir}. */
    public static Path noVm(Path dir) {
        return write(dir.resolve("configuration-none.toml"), """
                # the no-VM sandbox: the agent runs on the host and containers get NO VM isolation
                [hypervisor.none]

                [agent.kata]
                dial_timeout = 30
                """);
    }

    public static Path write(Path file, String toml) {
        try {
            Files.createDirectories(file.getParent());
            return Files.writeString(file, toml);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
