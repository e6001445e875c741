import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Writes a directory tree as a reproducible cpio "newc" archive (the format the kernel unpacks
 * into its initramfs): entries sorted by path, inode numbers counted from 1, owner root, one fixed
 * mtime, modes normalised (directories 0755, files 0755 when executable else 0644, symlinks 0777),
 * so that the same files give the same bytes on any machine, whatever its umask or file system.
 * Hard links are stored as separate files.
 *
 * <pre>java Cpio.java ROOT MTIME [SPEC] &gt; out.cpio</pre>
 *
 * SPEC adds what a directory on the build host cannot hold unprivileged or portably, one per line:
 * {@code nod PATH MODE c|b MAJOR MINOR} (a device node), {@code mode PATH MODE} (overrides a mode,
 * e.g. {@code mode tmp 1777}). Paths are relative to ROOT, without a leading slash.
 */
public final class Cpio {
    private static final int S_IFDIR = 0040000, S_IFREG = 0100000, S_IFLNK = 0120000, S_IFCHR = 0020000, S_IFBLK = 0060000;

    private record Node(int type, int mode, int major, int minor) {
    }

    public static void main(String[] args) throws IOException {
        if (args.length < 2 || args.length > 3) {
            System.err.println("usage: java Cpio.java ROOT MTIME [SPEC] > out.cpio");
            System.exit(2);
        }
        Path root = Path.of(args[0]).toAbsolutePath().normalize();
        long mtime = Long.parseLong(args[1]);
        Map<String, Node> nodes = new HashMap<>();
        Map<String, Integer> modes = new HashMap<>();
        if (args.length == 3) {
            for (String line : Files.readAllLines(Path.of(args[2]))) {
                String[] f = line.strip().split("\\s+");
                if (f.length == 0 || f[0].isEmpty() || f[0].startsWith("#")) {
                    continue;
                }
                switch (f[0]) {
                    case "nod" -> nodes.put(f[1], new Node(f[3].equals("b") ? S_IFBLK : S_IFCHR, Integer.parseInt(f[2], 8),
                            Integer.parseInt(f[4]), Integer.parseInt(f[5])));
                    case "mode" -> modes.put(f[1], Integer.parseInt(f[2], 8));
                    default -> throw new IllegalArgumentException("unknown spec line: " + line);
                }
            }
        }
        // TreeMap on the UTF-8 path: byte order, so a directory always precedes what it holds
        TreeMap<String, Path> entries = new TreeMap<>();
        try (Stream<Path> walk = Files.walk(root)) {
            walk.filter(p -> !p.equals(root)).forEach(p -> entries.put(root.relativize(p).toString(), p));
        }
        for (String name : nodes.keySet()) {
            if (entries.containsKey(name)) {
                throw new IllegalArgumentException(name + " is both a file and a node in the spec");
            }
            entries.put(name, null);
        }
        try (OutputStream out = new BufferedOutputStream(System.out, 1 << 20)) {
            Writer w = new Writer(out, mtime);
            for (var e : entries.entrySet()) {
                String name = e.getKey();
                Path path = e.getValue();
                Node node = nodes.get(name);
                if (node != null) {
                    w.entry(name, node.type | node.mode, 1, node.major, node.minor, new byte[0]);
                } else if (Files.isSymbolicLink(path)) {
                    byte[] target = Files.readSymbolicLink(path).toString().getBytes(StandardCharsets.UTF_8);
                    w.entry(name, S_IFLNK | modes.getOrDefault(name, 0777), 1, 0, 0, target);
                } else if (Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS)) {
                    w.entry(name, S_IFDIR | modes.getOrDefault(name, 0755), 2, 0, 0, new byte[0]);
                } else if (Files.isRegularFile(path, LinkOption.NOFOLLOW_LINKS)) {
                    boolean exec = Files.getPosixFilePermissions(path, LinkOption.NOFOLLOW_LINKS).contains(PosixFilePermission.OWNER_EXECUTE);
                    w.entry(name, S_IFREG | modes.getOrDefault(name, exec ? 0755 : 0644), 1, 0, 0, Files.readAllBytes(path));
                } else {
                    throw new IllegalArgumentException("cannot archive " + path + " (not a file, directory or symlink)");
                }
            }
            w.entry("TRAILER!!!", 0, 1, 0, 0, new byte[0]);
        }
    }

    private static final class Writer {
        private final OutputStream out;
        private final long mtime;
        private long offset;
        private int ino = 1;

        Writer(OutputStream out, long mtime) {
            this.out = out;
            this.mtime = mtime;
        }

        void entry(String name, int mode, int nlink, int rdevMajor, int rdevMinor, byte[] data) throws IOException {
            byte[] nameBytes = (name + "\0").getBytes(StandardCharsets.UTF_8);
            boolean trailer = name.equals("TRAILER!!!");
            StringBuilder h = new StringBuilder("070701");
            for (long field : new long[]{trailer ? 0 : ino++, mode, 0, 0, nlink, trailer ? 0 : mtime, data.length,
                    0, 0, rdevMajor, rdevMinor, nameBytes.length, 0}) {
                h.append(String.format("%08x", field));
            }
            write(h.toString().getBytes(StandardCharsets.US_ASCII));
            write(nameBytes);
            pad();
            write(data);
            pad();
        }

        private void write(byte[] b) throws IOException {
            out.write(b);
            offset += b.length;
        }

        private void pad() throws IOException {
            while (offset % 4 != 0) {
                out.write(0);
                offset++;
            }
        }
    }

    private Cpio() {
    }
}
