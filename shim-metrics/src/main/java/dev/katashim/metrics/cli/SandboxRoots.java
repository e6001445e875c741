package dev.katashim.metrics.cli;

import dev.katashim.metrics.monitor.SandboxRoot;
import dev.katashim.metrics.monitor.SandboxWatcher;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The sandbox roots the CLI looks in: by default the node monitor's ({@code $KATA_SHIM_SANDBOX_ROOT}
 * or {@code /run/vc/sbs}, and runtime-rs's {@code /run/kata}), and in which of them a sandbox is.
 */
record SandboxRoots(List<SandboxRoot> roots) {
    SandboxRoots {
        roots = List.copyOf(roots);
    }

    static SandboxRoots defaults() {
        return new SandboxRoots(SandboxWatcher.defaultRoots().stream().map(SandboxRoot::new).toList());
    }

    /** A sandbox directory and the root it is in. */
    record Listed(String id, SandboxRoot root) {
        Path socket() {
            return root.socket(id);
        }
    }

    /** Every sandbox directory under the roots, by id, then in the roots' order. */
    List<Listed> sandboxes() throws IOException {
        List<Listed> all = new ArrayList<>();
        for (SandboxRoot root : roots) {
            for (String id : root.sandboxes()) {
                all.add(new Listed(id, root));
            }
        }
        all.sort(Comparator.comparing(Listed::id)); // stable: one id under two roots keeps the roots' order
        return all;
    }

    /** The one root holding sandbox {@code id}; none, or two, is an error naming the roots. */
    Listed find(String id) throws IOException {
        List<Listed> found = new ArrayList<>();
        for (SandboxRoot root : roots) {
            if (Files.isDirectory(root.socket(id).getParent())) { // socket() refuses what is no sandbox id
                found.add(new Listed(id, root));
            }
        }
        return switch (found.size()) {
            case 0 -> throw new IOException("no sandbox " + id + " under " + describe());
            case 1 -> found.getFirst();
            default -> throw new IOException("sandbox " + id + " is under " + found.size() + " roots: "
                    + found.stream().map(l -> l.root().path().resolve(id).toString()).collect(Collectors.joining(" and "))
                    + " (give the one meant with --sandbox-root)");
        };
    }

    String describe() {
        return roots.stream().map(r -> r.path().toString()).collect(Collectors.joining(", "));
    }
}
