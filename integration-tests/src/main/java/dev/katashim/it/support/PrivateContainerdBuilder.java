package dev.katashim.it.support;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Options for {@link PrivateContainerd}; every one has a sensible default. */
public final class PrivateContainerdBuilder {
    Path containerdBinary = Path.of("/usr/bin/containerd");
    final List<Path> pathPrefix = new ArrayList<>();
    final Map<String, String> environment = new LinkedHashMap<>();
    boolean criEnabled;
    String criSettings = "";
    String logLevel = "info";
    String extraToml = "";
    Duration startTimeout = Duration.ofSeconds(30);
    Duration commandTimeout = Duration.ofSeconds(60);

    PrivateContainerdBuilder() {
    }

    /** Directories searched before the inherited PATH: where containerd looks for containerd-shim-*-v2 binaries. */
    public PrivateContainerdBuilder prependToPath(Path... directories) {
        for (Path directory : directories) {
            pathPrefix.add(directory.toAbsolutePath());
        }
        return this;
    }

    /** An environment variable for containerd, and so for the shims it starts. */
    public PrivateContainerdBuilder environment(String name, String value) {
        environment.put(name, value);
        return this;
    }

    /** Keep the CRI plugin (off by default: it slows start-up). */
    public PrivateContainerdBuilder enableCri(boolean enabled) {
        criEnabled = enabled;
        return this;
    }

    /** Keys for the CRI plugin's table ({@code sandbox_image = "..."}, one a line); sub-tables go in {@link #extraToml}. */
    public PrivateContainerdBuilder criSettings(String toml) {
        criSettings = toml;
        return this;
    }

    /** containerd's log level: trace, debug, info (default), warn, error. */
    public PrivateContainerdBuilder logLevel(String level) {
        logLevel = level;
        return this;
    }

    /** Raw TOML appended to the generated config, e.g. a runtime's plugin section. */
    public PrivateContainerdBuilder extraToml(String toml) {
        extraToml = toml;
        return this;
    }

    public PrivateContainerdBuilder containerdBinary(Path binary) {
        containerdBinary = binary;
        return this;
    }

    public PrivateContainerdBuilder startTimeout(Duration timeout) {
        startTimeout = timeout;
        return this;
    }

    /** Default timeout of {@link PrivateContainerd#ctr}. */
    public PrivateContainerdBuilder commandTimeout(Duration timeout) {
        commandTimeout = timeout;
        return this;
    }

    public PrivateContainerd start() {
        return new PrivateContainerd(this);
    }
}
