package dev.katashim.sys;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The mounts a process sees, in the kernel's order ({@code /proc/self/mountinfo}): a mount listed
 * later at the same point is stacked on the earlier one and hides it.
 */
public record MountTable(List<Mount> mounts) {
    /** This process's mountinfo file. */
    public static final Path SELF = Path.of("/proc/self/mountinfo");

    public MountTable {
        mounts = List.copyOf(mounts);
    }

    /** The mounts this process sees now. */
    public static MountTable ofThisProcess() throws IOException {
        return read(SELF);
    }

    /** Reads a mountinfo file ({@code /proc/<pid>/mountinfo}). */
    public static MountTable read(Path mountinfo) throws IOException {
        return parse(Files.readString(mountinfo));
    }

    /** Parses mountinfo text; a line that is not a mount (none should be) is skipped. */
    public static MountTable parse(String text) {
        List<Mount> mounts = new ArrayList<>();
        for (String line : text.split("\n")) {
            if (line.isBlank()) {
                continue;
            }
            try {
                mounts.add(Mount.parse(line));
            } catch (IllegalArgumentException malformed) {
                // skipped: the rest of the table is still true
            }
        }
        return new MountTable(mounts);
    }

    /**
     * Mount points at {@code dir} or below it, deepest first, so that unmounting them in this order
     * never leaves one behind its parent; a point with stacked mounts is listed once per mount.
     */
    public List<Path> pointsAtOrBelow(Path dir) {
        Path base = normalized(dir);
        return mounts.stream()
                .map(Mount::mountPoint)
                .filter(point -> point.startsWith(base))
                .sorted(Comparator.comparingInt(Path::getNameCount).reversed())
                .toList();
    }

    /** Whether something is mounted at {@code path} (compared as an absolute, normalized path; links are not followed). */
    public boolean isMountPoint(Path path) {
        return at(path).isPresent();
    }

    /** The mount visible at {@code path}, the last one mounted there, if {@code path} is a mount point. */
    public Optional<Mount> at(Path path) {
        Path point = normalized(path);
        return mounts.reversed().stream().filter(m -> m.mountPoint().equals(point)).findFirst();
    }

    /** The mounts of these filesystem types ("cgroup", "cgroup2"), in the table's order. */
    public List<Mount> ofType(Set<String> fsTypes) {
        return mounts.stream().filter(m -> fsTypes.contains(m.fsType())).toList();
    }

    private static Path normalized(Path path) {
        return path.toAbsolutePath().normalize();
    }
}
