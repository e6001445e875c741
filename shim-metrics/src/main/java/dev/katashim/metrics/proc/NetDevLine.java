package dev.katashim.metrics.proc;

/**
 * One interface of {@code /proc/<pid>/net/dev} (the process's network namespace): the eight
 * receive and eight transmit columns in the kernel's order.
 */
public record NetDevLine(String name, long[] receive, long[] transmit) {
    /** Item names of the receive columns (bytes packets errs drop fifo frame compressed multicast). */
    public static final String[] RECEIVE_ITEMS = {
            "recv_bytes", "recv_packets", "recv_errs", "recv_drop", "recv_fifo", "recv_frame", "recv_compressed", "recv_multicast"};
    /** Item names of the transmit columns (bytes packets errs drop fifo colls carrier compressed). */
    public static final String[] TRANSMIT_ITEMS = {
            "sent_bytes", "sent_packets", "sent_errs", "sent_drop", "sent_fifo", "sent_colls", "sent_carrier", "sent_compressed"};
}
