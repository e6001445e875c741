package dev.katashim.vmm.qemu;

import dev.katashim.vmm.qemu.QemuConfig.Accelerator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Optional;
import java.util.Properties;

/**
 * Remembers, per host, whether KVM could start a guest, so that only the first sandbox pays for a
 * failed KVM attempt. One small file per QEMU binary (path, size, modification time) and host
 * kernel release, under {@code /run/kata-shim-java/} by default: {@code /run} is emptied at boot,
 * and a new QEMU or kernel gets a new file, so a stale answer does not outlive what it was about.
 */
public final class AcceleratorMemory {
    private static final Logger log = LoggerFactory.getLogger(AcceleratorMemory.class);
    public static final Path DEFAULT_DIR = Path.of("/run/kata-shim-java");

    private final Path dir;

    public AcceleratorMemory(Path dir) {
        this.dir = dir;
    }

    public static AcceleratorMemory atDefaultLocation() {
        return new AcceleratorMemory(DEFAULT_DIR);
    }

    /** What was remembered for {@code qemu}: the accelerator and the reason given then. */
    public record Remembered(Accelerator accelerator, String reason, Instant decidedAt, Path file) {
    }

    public Optional<Remembered> recall(Path qemu) {
        Path file = fileFor(qemu);
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        try {
            Properties p = new Properties();
            p.load(new StringReader(Files.readString(file, StandardCharsets.UTF_8)));
            return Optional.of(new Remembered(Accelerator.parse(p.getProperty("accelerator", "")),
                    p.getProperty("reason", ""), Instant.parse(p.getProperty("decided", Instant.EPOCH.toString())), file));
        } catch (IOException | RuntimeException e) {
            log.warn("ignoring unreadable accelerator record {}: {}", file, e.toString());
            return Optional.empty();
        }
    }

    /** Records the outcome; a failure to write is logged, not thrown: the next sandbox just tries again. */
    public void remember(Path qemu, Accelerator accelerator, String reason) {
        Path file = fileFor(qemu);
        try {
            Files.createDirectories(dir);
            Properties p = new Properties();
            p.setProperty("accelerator", accelerator.name().toLowerCase(java.util.Locale.ROOT));
            p.setProperty("qemu", qemu.toString());
            p.setProperty("reason", reason);
            p.setProperty("decided", Instant.now().toString());
            Path tmp = Files.createTempFile(dir, ".accel", ".tmp");
            try (var out = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
                p.store(out, "kata-shim-java: the accelerator QEMU can start guests with on this host");
            }
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            log.warn("cannot remember the accelerator choice in {}: {}", file, e.toString());
        }
    }

    /** The record for {@code qemu}: {@code <dir>/qemu-accel-<hash of binary identity and kernel release>}. */
    public Path fileFor(Path qemu) {
        StringBuilder identity = new StringBuilder(qemu.toAbsolutePath().toString());
        try {
            BasicFileAttributes a = Files.readAttributes(qemu.toRealPath(), BasicFileAttributes.class);
            identity.append('|').append(a.size()).append('|').append(a.lastModifiedTime().toMillis());
        } catch (IOException e) {
            identity.append("|missing");
        }
        try {
            identity.append('|').append(Files.readString(Path.of("/proc/sys/kernel/osrelease")).strip());
        } catch (IOException e) {
            identity.append("|unknown-kernel");
        }
        try {
            byte[] hash = MessageDigest.getInstance("SHA-256").digest(identity.toString().getBytes(StandardCharsets.UTF_8));
            return dir.resolve("qemu-accel-" + HexFormat.of().formatHex(hash, 0, 8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
