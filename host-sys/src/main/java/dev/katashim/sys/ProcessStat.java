package dev.katashim.sys;

/**
 * The fields of {@code /proc/<pid>/stat} the metrics use. Times are clock ticks, {@code vsize}
 * bytes, {@code rssPages} pages, {@code startTicks} ticks after boot.
 */
public record ProcessStat(long utime, long stime, long cutime, long cstime, long threads, long startTicks,
                          long vsize, long rssPages) {

    /**
     * Parses the line. The command name (field 2) may hold spaces and parentheses, so the fields
     * are counted from the last ')'.
     *
     * @throws IllegalArgumentException when the line is not a whole stat line
     */
    public static ProcessStat parse(String line) {
        int close = line.lastIndexOf(')');
        if (close < 0) {
            throw new IllegalArgumentException("no command name in /proc stat line: " + abbreviate(line));
        }
        String[] f = line.substring(close + 1).trim().split(" +");
        // f[0] is field 3 (state): field n is f[n - 3]
        if (f.length < 22) {
            throw new IllegalArgumentException("short /proc stat line (" + (f.length + 2) + " fields): " + abbreviate(line));
        }
        return new ProcessStat(field(f, 14), field(f, 15), field(f, 16), field(f, 17), field(f, 20), field(f, 22),
                field(f, 23), field(f, 24));
    }

    private static long field(String[] f, int number) {
        return Long.parseLong(f[number - 3]);
    }

    private static String abbreviate(String line) {
        return line.length() > 120 ? line.substring(0, 120) + "..." : line;
    }
}
