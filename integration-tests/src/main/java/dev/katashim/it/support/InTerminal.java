package dev.katashim.it.support;

import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Runs a command at a terminal of a given size, as a user at a terminal runs {@code ctr task exec -t}:
 * util-linux {@code script} gives it a pseudo-terminal (stdin, stdout and stderr), sized with
 * {@code stty} before the command starts. What the command prints comes back with the terminal's
 * CR LF line ends; {@code script -e} exits with the command's exit code.
 */
public final class InTerminal {
    private InTerminal() {
    }

    public static BackgroundCommand start(List<String> command, Map<String, String> environment, int rows, int columns) {
        String line = "stty rows " + rows + " cols " + columns + " && exec "
                + command.stream().map(InTerminal::shellQuoted).collect(Collectors.joining(" "));
        return BackgroundCommand.start(List.of("script", "--quiet", "--return", "--command", line, "/dev/null"), environment);
    }

    static String shellQuoted(String word) {
        return "'" + word.replace("'", "'\\''") + "'";
    }
}
