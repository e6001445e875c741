package dev.katashim.vmm.testing;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A real Debian guest kernel for the tests: the package {@code linux-image-amd64} depends on
 * (a {@code linux-image-6.1.*-amd64}), fetched with {@code apt-get download} and unpacked with
 * {@code dpkg-deb -x} once, then cached (kernel plus the few modules the tests load) under
 * {@code ${java.io.tmpdir}/kata-shim-java-test-kernel/<package>/}, shared by every test and run.
 */
public record TestKernel(Path vmlinuz, Map<String, Path> modules) {
    /** Modules (not built into Debian's kernel) the test guests load, in load order. */
    public static final List<String> MODULES = List.of(
            "virtio_ring", "virtio", "virtio_pci_legacy_dev", "virtio_pci_modern_dev", "virtio_pci", "virtio_console",
            "netfs", "fscache", "9pnet", "9pnet_virtio", "9p", "fuse", "virtiofs", "pvpanic", "pvpanic-pci");

    private static final Path CACHE = Path.of(System.getProperty("java.io.tmpdir"), "kata-shim-java-test-kernel");
    private static TestKernel instance;

    public static synchronized TestKernel get() throws IOException, InterruptedException {
        if (instance == null) {
            instance = fetch();
        }
        return instance;
    }

    public Path module(String name) {
        return modules.get(name);
    }

    private static TestKernel fetch() throws IOException, InterruptedException {
        Files.createDirectories(CACHE);
        String pkg = kernelPackage();
        Path dir = CACHE.resolve(pkg);
        try (FileChannel lockFile = FileChannel.open(CACHE.resolve(".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
             FileLock ignored = lockFile.lock()) {
            boolean complete = Files.exists(dir.resolve("complete"))
                    && MODULES.stream().allMatch(m -> Files.exists(dir.resolve("modules").resolve(m + ".ko")));
            if (!complete) {
                download(pkg, dir);
            }
        }
        Map<String, Path> modules = new java.util.LinkedHashMap<>();
        for (String m : MODULES) {
            modules.put(m, dir.resolve("modules").resolve(m + ".ko"));
        }
        return new TestKernel(dir.resolve("vmlinuz"), modules);
    }

    /** The kernel package the meta-package {@code linux-image-amd64} currently depends on. */
    private static String kernelPackage() throws IOException, InterruptedException {
        String out = Commands.run(CACHE, List.of("apt-cache", "depends", "linux-image-amd64"));
        if (!out.contains("Depends:")) {
            Commands.run(CACHE, List.of("apt-get", "update"));
            out = Commands.run(CACHE, List.of("apt-cache", "depends", "linux-image-amd64"));
        }
        Matcher m = Pattern.compile("Depends: (linux-image-[0-9][^\\s]*-amd64)").matcher(out);
        if (!m.find()) {
            throw new IOException("cannot tell which kernel package linux-image-amd64 depends on; apt-cache said:\n" + out);
        }
        return m.group(1);
    }

    private static void download(String pkg, Path dir) throws IOException, InterruptedException {
        Path work = Files.createTempDirectory(CACHE, "download");
        try {
            Commands.run(work, List.of("apt-get", "download", pkg));
            Path deb;
            try (Stream<Path> s = Files.list(work)) {
                deb = s.filter(p -> p.toString().endsWith(".deb")).findFirst()
                        .orElseThrow(() -> new IOException("apt-get download " + pkg + " left no .deb in " + work));
            }
            Path root = work.resolve("root");
            Commands.run(work, List.of("dpkg-deb", "-x", deb.toString(), root.toString()));
            Path modulesDir = dir.resolve("modules");
            Files.createDirectories(modulesDir);
            try (Stream<Path> s = Files.list(root.resolve("boot"))) {
                Path vmlinuz = s.filter(p -> p.getFileName().toString().startsWith("vmlinuz-")).findFirst()
                        .orElseThrow(() -> new IOException(pkg + " has no /boot/vmlinuz-*"));
                Files.copy(vmlinuz, dir.resolve("vmlinuz"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
            try (Stream<Path> s = Files.walk(root.resolve("lib/modules"))) {
                for (Path ko : s.filter(p -> p.toString().endsWith(".ko")).toList()) {
                    String name = ko.getFileName().toString();
                    if (MODULES.contains(name.substring(0, name.length() - 3))) {
                        Files.copy(ko, modulesDir.resolve(name), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                    }
                }
            }
            for (String m : MODULES) {
                if (!Files.exists(modulesDir.resolve(m + ".ko"))) {
                    throw new IOException(pkg + " has no module " + m + ".ko (compressed modules are not supported by this helper)");
                }
            }
            Files.writeString(dir.resolve("complete"), pkg + "\n", StandardCharsets.UTF_8);
        } finally {
            deleteTree(work);
        }
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
