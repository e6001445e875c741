package dev.katashim.sys;

import java.nio.file.Path;
import java.util.Arrays;

/**
 * One mount, as a line of {@code /proc/<pid>/mountinfo} describes it (proc(5)), with the kernel's
 * octal escapes ({@code \040} for a space, {@code \011}, {@code \012}, {@code \134}) decoded.
 *
 * @param mountId      unique id of the mount
 * @param parentId     id of the mount it is mounted on
 * @param majorMinor   {@code st_dev} of its files ("8:1"): equal for two mounts of one filesystem
 * @param root         the directory of the filesystem that is mounted here ("/" for all of it)
 * @param mountPoint   where it is mounted, as this process sees it
 * @param mountOptions per-mount options ("rw,nosuid,relatime")
 * @param fsType       filesystem type ("ext4", "cgroup2", "overlay")
 * @param source       what is mounted ("/dev/sda1", "tmpfs", "none")
 * @param superOptions options of the filesystem itself ("rw,memory" on a cgroup v1 hierarchy)
 */
public record Mount(int mountId, int parentId, String majorMinor, String root, Path mountPoint,
                    String mountOptions, String fsType, String source, String superOptions) {

    /** Whether {@code option} is one of the per-mount options ("ro" for a read-only bind). */
    public boolean hasMountOption(String option) {
        return Arrays.asList(mountOptions.split(",")).contains(option);
    }

    /** Whether {@code option} is one of the filesystem's options ("ro", a cgroup v1 controller). */
    public boolean hasSuperOption(String option) {
        return Arrays.asList(superOptions.split(",")).contains(option);
    }

    /**
     * Parses one mountinfo line: {@code id parent major:minor root point options [optional...] - type source superoptions}.
     *
     * @throws IllegalArgumentException when the line does not have that shape
     */
    public static Mount parse(String line) {
        String[] fields = line.split(" ");
        // the optional fields ("shared:1 master:2") end at a lone "-"
        int separator = -1;
        for (int i = 6; i < fields.length; i++) {
            if (fields[i].equals("-")) {
                separator = i;
                break;
            }
        }
        if (separator < 0 || fields.length < separator + 4) {
            throw new IllegalArgumentException("not a mountinfo line: " + line);
        }
        try {
            return new Mount(Integer.parseInt(fields[0]), Integer.parseInt(fields[1]), fields[2], decode(fields[3]),
                    Path.of(decode(fields[4])), fields[5], fields[separator + 1], decode(fields[separator + 2]),
                    decode(fields[separator + 3]));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a mountinfo line: " + line, e);
        }
    }

    /** Undoes the kernel's escaping of space, tab, newline and backslash as a backslash and three octal digits. */
    static String decode(String field) {
        if (field.indexOf('\\') < 0) {
            return field;
        }
        StringBuilder plain = new StringBuilder(field.length());
        for (int i = 0; i < field.length(); i++) {
            char c = field.charAt(i);
            if (c == '\\' && isOctal(field, i + 1) && isOctal(field, i + 2) && isOctal(field, i + 3)) {
                plain.append((char) Integer.parseInt(field.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                plain.append(c);
            }
        }
        return plain.toString();
    }

    private static boolean isOctal(String s, int index) {
        return index < s.length() && s.charAt(index) >= '0' && s.charAt(index) <= '7';
    }
}
