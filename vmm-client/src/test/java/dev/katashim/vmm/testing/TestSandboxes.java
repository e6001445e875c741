package dev.katashim.vmm.testing;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Sandbox directories for the tests, all under one root per test JVM, and the guard that nothing
 * outlives a test class: after each class, any process whose command line mentions the root
 * (a QEMU, a virtiofsd) is killed and the class fails. A shutdown hook kills them too, should the
 * test JVM itself be stopped. The directories live under a short /tmp root, removed when the test JVM exits.
 */
public final class TestSandboxes implements AfterAllCallback {
    private static final Path ROOT;

    static {
        try {
            // a short path whatever the checkout's: unix socket paths (QEMU's, virtiofsd's) are limited to 107 bytes
            ROOT = Files.createTempDirectory(Path.of("/tmp"), "kvm");
        } catch (IOException e) {
            throw new ExceptionInInitializerError(e);
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            killLeftovers();
            deleteRoot();
        }));
    }

    private static void deleteRoot() {
        try (var walk = Files.walk(ROOT)) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // best effort at JVM exit
        }
    }

    public static Path root() {
        return ROOT;
    }

    /** A fresh directory for one sandbox (short: unix socket paths are limited to 107 bytes). */
    public static Path newSandbox(String name) throws IOException {
        return Files.createTempDirectory(ROOT, name + "-");
    }

    /** Processes whose command line mentions the test root. */
    public static List<ProcessHandle> leftovers() {
        String root = ROOT.toString();
        long self = ProcessHandle.current().pid();
        return ProcessHandle.allProcesses()
                .filter(p -> p.pid() != self)
                .filter(p -> p.info().commandLine().map(c -> c.contains(root)).orElse(false))
                .toList();
    }

    private static List<String> killLeftovers() {
        List<String> killed = leftovers().stream()
                .map(p -> {
                    String what = p.pid() + " " + p.info().commandLine().orElse("?");
                    p.destroyForcibly();
                    try {
                        p.onExit().get(5, TimeUnit.SECONDS);
                    } catch (Exception ignored) {
                        // reported below
                    }
                    return what;
                })
                .toList();
        return killed;
    }

    @Override
    public void afterAll(ExtensionContext context) {
        List<String> killed = killLeftovers();
        if (!killed.isEmpty()) {
            throw new AssertionError(context.getDisplayName() + " left processes running (now killed): " + killed);
        }
    }
}
