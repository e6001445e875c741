package dev.katashim.sys;

import java.util.ArrayList;
import java.util.List;

/**
 * One interface of {@code /proc/<pid>/net/dev} (the network namespace {@code pid} is in): the
 * eight receive and eight transmit columns in the kernel's order.
 */
public record NetDevLine(String name, long[] receive, long[] transmit) {
    /** Item names of the receive columns (bytes packets errs drop fifo frame compressed multicast). */
    public static final List<String> RECEIVE_ITEMS = List.of(
            "recv_bytes", "recv_packets", "recv_errs", "recv_drop", "recv_fifo", "recv_frame", "recv_compressed", "recv_multicast");
    /** Item names of the transmit columns (bytes packets errs drop fifo colls carrier compressed). */
    public static final List<String> TRANSMIT_ITEMS = List.of(
            "sent_bytes", "sent_packets", "sent_errs", "sent_drop", "sent_fifo", "sent_colls", "sent_carrier", "sent_compressed");

    /** The interface lines of a net/dev file (its two header lines have no "name:"); counters are unsigned. */
    public static List<NetDevLine> parse(String text) {
        List<NetDevLine> lines = new ArrayList<>();
        for (String line : text.split("\n")) {
            int colon = line.indexOf(':');
            if (colon <= 0) {
                continue;
            }
            String[] values = line.substring(colon + 1).trim().split("\\s+");
            if (values.length < 16) {
                continue;
            }
            long[] receive = new long[8];
            long[] transmit = new long[8];
            for (int i = 0; i < 8; i++) {
                receive[i] = Long.parseUnsignedLong(values[i]);
                transmit[i] = Long.parseUnsignedLong(values[8 + i]);
            }
            lines.add(new NetDevLine(line.substring(0, colon).trim(), receive, transmit));
        }
        return List.copyOf(lines);
    }
}
