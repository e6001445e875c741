package dev.katashim.agent.guest.runc;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** What runc said when it failed: its {@code --log-format json} file, or its plain stderr. */
public final class RuncLog {
    private RuncLog() {
    }

    /** The last error-level message of a JSON log file; empty if none. */
    public static String lastError(Path logFile) {
        try {
            return Files.exists(logFile) ? lastError(Files.readString(logFile)) : "";
        } catch (IOException e) {
            return "";
        }
    }

    /**
     * The last error of runc's output: from JSON lines ({"level":"error","msg":...}) when there
     * are any, else from text lines, dropping logrus' {@code time=... level=error msg="..."} frame.
     */
    public static String lastError(String output) {
        String last = "";
        for (String line : output.lines().toList()) {
            String text = line.strip();
            if (text.isEmpty()) {
                continue;
            }
            if (text.startsWith("{")) {
                try {
                    JsonNode entry = Runc.json().readTree(text);
                    String level = entry.path("level").asText();
                    if (level.equals("error") || level.equals("fatal")) {
                        last = entry.path("msg").asText();
                    }
                } catch (IOException e) {
                    last = text;
                }
                continue;
            }
            int msg = text.indexOf("msg=\"");
            if (msg >= 0) {
                String quoted = text.substring(msg + 5);
                int end = quoted.lastIndexOf('"');
                last = (end > 0 ? quoted.substring(0, end) : quoted).replace("\\\"", "\"");
            } else {
                last = text;
            }
        }
        return last;
    }
}
