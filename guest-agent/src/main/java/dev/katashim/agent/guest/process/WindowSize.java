package dev.katashim.agent.guest.process;

/** A terminal's size in character cells, as TtyWinResize and OCI's {@code consoleSize} give it. */
public record WindowSize(int rows, int columns) {
    /** TIOCSWINSZ takes unsigned shorts. */
    public static final int MAX = 0xffff;

    public WindowSize {
        if (rows < 0 || rows > MAX || columns < 0 || columns > MAX) {
            throw new IllegalArgumentException("a window size is 0-" + MAX + " rows and columns, got " + rows + "x" + columns);
        }
    }
}
