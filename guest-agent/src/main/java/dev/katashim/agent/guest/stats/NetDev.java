package dev.katashim.agent.guest.stats;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code /proc/<pid>/net/dev}: per interface counters of the network namespace {@code pid} is in.
 * Columns after "name:": 8 receive (bytes packets errs drop fifo frame compressed multicast),
 * 8 transmit (bytes packets errs drop fifo colls carrier compressed).
 */
public record NetDev(String name, long[] receive, long[] transmit) {

    public static final List<String> RECEIVE_ITEMS = List.of(
            "recv_bytes", "recv_packets", "recv_errs", "recv_drop", "recv_fifo", "recv_frame", "recv_compressed", "recv_multicast");
    public static final List<String> TRANSMIT_ITEMS = List.of(
            "sent_bytes", "sent_packets", "sent_errs", "sent_drop", "sent_fifo", "sent_colls", "sent_carrier", "sent_compressed");

    public static List<NetDev> read(Path file) throws IOException {
        return parse(Files.readAllLines(file));
    }

    static List<NetDev> parse(List<String> lines) {
        List<NetDev> devices = new ArrayList<>();
        for (String line : lines) {
            int colon = line.indexOf(':');
            if (colon < 0) {
                continue; // the two header lines
            }
            String[] fields = line.substring(colon + 1).trim().split("\\s+");
            if (fields.length < 16) {
                continue;
            }
            long[] rx = new long[8];
            long[] tx = new long[8];
            for (int i = 0; i < 8; i++) {
                rx[i] = Long.parseUnsignedLong(fields[i]);
                tx[i] = Long.parseUnsignedLong(fields[8 + i]);
            }
            devices.add(new NetDev(line.substring(0, colon).trim(), rx, tx));
        }
        return devices;
    }
}
