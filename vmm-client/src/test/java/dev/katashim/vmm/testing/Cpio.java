package dev.katashim.vmm.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/** Writes a cpio archive in the "newc" format the Linux kernel unpacks as an initramfs. */
final class Cpio {
    private final OutputStream out;
    private long written;
    private int inode = 1;

    Cpio(OutputStream out) {
        this.out = out;
    }

    void directory(String path) throws IOException {
        entry(path, 0040755, 2, new byte[0]);
    }

    void file(String path, int permissions, byte[] data) throws IOException {
        entry(path, 0100000 | permissions, 1, data);
    }

    void symlink(String path, String target) throws IOException {
        entry(path, 0120777, 1, target.getBytes(StandardCharsets.UTF_8));
    }

    void finish() throws IOException {
        entry("TRAILER!!!", 0, 1, new byte[0]);
        out.flush();
    }

    private void entry(String path, int mode, int links, byte[] data) throws IOException {
        byte[] name = (path + "\0").getBytes(StandardCharsets.UTF_8);
        StringBuilder header = new StringBuilder("070701");
        long[] fields = {inode++, mode, 0, 0, links, 0, data.length, 0, 0, 0, 0, name.length, 0};
        for (long f : fields) {
            header.append(String.format(Locale.ROOT, "%08x", f));
        }
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.write(header.toString().getBytes(StandardCharsets.US_ASCII));
        b.write(name);
        write(b.toByteArray());
        pad();
        write(data);
        pad();
    }

    private void write(byte[] bytes) throws IOException {
        out.write(bytes);
        written += bytes.length;
    }

    private void pad() throws IOException {
        while (written % 4 != 0) {
            out.write(0);
            written++;
        }
    }
}
