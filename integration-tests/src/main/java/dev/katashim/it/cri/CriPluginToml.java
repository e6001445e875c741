package dev.katashim.it.cri;

import java.nio.file.Path;
import java.util.Map;

/** The CRI plugin's configuration of a {@link CriNode}, in containerd 1.6's TOML (config version 2). */
final class CriPluginToml {
    private static final String CRI = "plugins.\"io.containerd.grpc.v1.cri\"";

    private CriPluginToml() {
    }

    /** Keys of the plugin's own table. */
    static String settings(String sandboxImage) {
        return String.join("\n",
                "sandbox_image = \"" + sandboxImage + "\"",
                // without it CRI sets an oom_score_adj below the caller's, which these machines refuse
                "restrict_oom_score_adj = true",
                "disable_apparmor = true");
    }

    /** runc's state stays in our directory (its default /run/containerd/runc is shared with the host's containerd). */
    static String runtimes(Path runcRoot, Map<String, Path> kataHandlers) {
        StringBuilder toml = new StringBuilder();
        toml.append('[').append(CRI).append(".containerd]\n")
                .append("  default_runtime_name = \"runc\"\n")
                .append("  snapshotter = \"overlayfs\"\n\n");
        toml.append('[').append(CRI).append(".containerd.runtimes.runc]\n")
                .append("  runtime_type = \"io.containerd.runc.v2\"\n\n");
        toml.append('[').append(CRI).append(".containerd.runtimes.runc.options]\n")
                .append("  Root = \"").append(runcRoot).append("\"\n\n");
        kataHandlers.forEach((name, config) -> {
            toml.append('[').append(CRI).append(".containerd.runtimes.").append(name).append("]\n")
                    .append("  runtime_type = \"io.containerd.kata.v2\"\n\n");
            toml.append('[').append(CRI).append(".containerd.runtimes.").append(name).append(".options]\n")
                    .append("  ConfigPath = \"").append(config).append("\"\n\n");
        });
        return toml.toString();
    }

    /** Empty CNI directories of our own: host-network pods need none, and the host's must not be read. */
    static String cni(Path binDir, Path confDir) {
        return "[" + CRI + ".cni]\n  bin_dir = \"" + binDir + "\"\n  conf_dir = \"" + confDir + "\"\n";
    }
}
