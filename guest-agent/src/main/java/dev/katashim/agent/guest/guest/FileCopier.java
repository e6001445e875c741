package dev.katashim.agent.guest.guest;

import dev.katashim.agent.guest.AgentStatus;
import dev.katashim.protocols.kata.agent.CopyFileRequest;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.util.EnumSet;
import java.util.Set;

/**
 * CopyFile: the shim copies files (hostname, resolv.conf, volumes without a shared filesystem)
 * into the shared directory, in chunks. A regular file is written to {@code <path>.tmp} and
 * renamed when it has its full size; S_IFDIR makes a directory, S_IFLNK a symlink whose target is
 * the data. Only paths inside the shared directory are accepted, and no symlink on the way may
 * lead out of it.
 */
public final class FileCopier {
    private static final int S_IFMT = 0170000;
    private static final int S_IFDIR = 0040000;
    private static final int S_IFLNK = 0120000;

    private final Path sharedDir;

    public FileCopier(Path sharedDir) {
        this.sharedDir = sharedDir.toAbsolutePath().normalize();
    }

    public void copy(CopyFileRequest request) throws IOException {
        Path path = Path.of(request.getPath()).normalize();
        if (!request.getPath().startsWith("/") || !path.startsWith(sharedDir) || path.equals(sharedDir)) {
            throw AgentStatus.invalid("CopyFile: " + AgentStatus.quote(request.getPath()) + " is not inside the shared directory " + sharedDir);
        }
        Files.createDirectories(sharedDir);
        Path parent = path.getParent();
        Files.createDirectories(parent);
        if (!parent.toRealPath().startsWith(sharedDir.toRealPath())) {
            throw AgentStatus.invalid("CopyFile: " + AgentStatus.quote(request.getPath()) + " leads out of the shared directory");
        }
        chown(parent, request.getUid(), request.getGid());
        int type = request.getFileMode() & S_IFMT;
        if (type == S_IFDIR) {
            if (Files.isSymbolicLink(path) || Files.isRegularFile(path, LinkOption.NOFOLLOW_LINKS)) {
                Files.delete(path);
            }
            Files.createDirectories(path);
            Files.setPosixFilePermissions(path, permissions(request.getFileMode()));
            chown(path, request.getUid(), request.getGid());
            return;
        }
        if (request.getOffset() == 0) {
            deleteRecursively(path);
        }
        if (type == S_IFLNK) {
            Files.createSymbolicLink(path, Path.of(request.getData().toStringUtf8()));
            return;
        }
        Path tmp = path.resolveSibling(path.getFileName() + ".tmp");
        Set<StandardOpenOption> options = request.getOffset() == 0
                ? EnumSet.of(StandardOpenOption.WRITE, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING)
                : EnumSet.of(StandardOpenOption.WRITE, StandardOpenOption.CREATE);
        long size;
        try (FileChannel file = FileChannel.open(tmp, options)) {
            ByteBuffer data = request.getData().asReadOnlyByteBuffer();
            long position = request.getOffset();
            while (data.hasRemaining()) {
                position += file.write(data, position);
            }
            size = file.size();
        }
        if (size != request.getFileSize()) {
            return; // more chunks to come
        }
        Files.setPosixFilePermissions(tmp, permissions(request.getFileMode()));
        chown(tmp, request.getUid(), request.getGid());
        Files.move(tmp, path, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private static void chown(Path path, int uid, int gid) throws IOException {
        Files.setAttribute(path, "unix:uid", uid, LinkOption.NOFOLLOW_LINKS);
        Files.setAttribute(path, "unix:gid", gid, LinkOption.NOFOLLOW_LINKS);
    }

    private static void deleteRecursively(Path path) throws IOException {
        if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        if (Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS)) {
            try (var walk = Files.walk(path)) {
                for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        } else {
            Files.delete(path);
        }
    }

    private static Set<PosixFilePermission> permissions(int mode) {
        Set<PosixFilePermission> set = EnumSet.noneOf(PosixFilePermission.class);
        PosixFilePermission[] order = {
                PosixFilePermission.OTHERS_EXECUTE, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_READ,
                PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_READ,
                PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_READ};
        for (int bit = 0; bit < 9; bit++) {
            if ((mode & (1 << bit)) != 0) {
                set.add(order[bit]);
            }
        }
        return set;
    }
}
