package dev.katashim.it.support;

import java.nio.file.Path;

/**
 * A containerd 1.6 config (version 2 TOML) that keeps every path of its own private:
 * nothing under /var/lib/containerd, /run/containerd (beyond what is hard-coded there) or /opt/containerd.
 */
public record ContainerdConfig(Path root, Path state, Path grpcSocket, Path ttrpcSocket, Path optDir,
                               boolean criEnabled, String criSettings, String logLevel, String extraToml) {

    public static final String CRI_PLUGIN = "io.containerd.grpc.v1.cri";

    public String toToml() {
        StringBuilder toml = new StringBuilder();
        toml.append("version = 2\n");
        toml.append("root = ").append(quoted(root)).append('\n');
        toml.append("state = ").append(quoted(state)).append('\n');
        // CRI costs start-up time and wants a sandbox image; only tests that need it turn it on.
        toml.append("disabled_plugins = [").append(criEnabled ? "" : quoted(CRI_PLUGIN)).append("]\n");
        toml.append("\n[grpc]\n  address = ").append(quoted(grpcSocket)).append('\n');
        // Set explicitly: shims get it as TTRPC_ADDRESS and publish their events there.
        toml.append("\n[ttrpc]\n  address = ").append(quoted(ttrpcSocket)).append('\n');
        toml.append("\n[debug]\n  address = \"\"\n  level = ").append(quoted(logLevel)).append('\n');
        toml.append("\n[metrics]\n  address = \"\"\n");
        // The opt plugin would otherwise create /opt/containerd on the host.
        toml.append("\n[plugins.\"io.containerd.internal.v1.opt\"]\n  path = ").append(quoted(optDir)).append('\n');
        if (criEnabled) {
            // The default streaming port 10010 would clash between two private containerds.
            toml.append("\n[plugins.\"").append(CRI_PLUGIN).append("\"]\n")
                    .append("  stream_server_address = \"127.0.0.1\"\n")
                    .append("  stream_server_port = \"0\"\n");
            // keys of the CRI plugin's own table (sandbox_image, ...): TOML lets a table be opened once
            criSettings.lines().forEach(line -> toml.append("  ").append(line.strip()).append('\n'));
        }
        if (!extraToml.isBlank()) {
            toml.append('\n').append(extraToml).append('\n');
        }
        return toml.toString();
    }

    private static String quoted(Object value) {
        return "\"" + value.toString().replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }
}
