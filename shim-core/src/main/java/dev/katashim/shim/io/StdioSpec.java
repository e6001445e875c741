package dev.katashim.shim.io;

/**
 * What containerd asked for in Create or Exec: a FIFO path, a {@code binary://} or {@code file://}
 * URI, or "" for no stream; and whether the process has a terminal (then stderr is merged into stdout).
 */
public record StdioSpec(String stdin, String stdout, String stderr, boolean terminal) {
    public static final StdioSpec NONE = new StdioSpec("", "", "", false);
}
