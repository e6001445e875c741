package dev.katashim.agent.guest.stats;

import dev.katashim.protocols.kata.agent.NetworkStats;

import dev.katashim.sys.NetDevLine;
import dev.katashim.sys.ProcFs;

import java.util.ArrayList;
import java.util.List;

/** The network statistics of a container: its init's network namespace, from /proc/<pid>/net/dev. */
public final class NetworkStatsReader {
    private NetworkStatsReader() {
    }

    public static List<NetworkStats> of(long pid) {
        List<NetworkStats> stats = new ArrayList<>();
        // empty when the process ended between the cgroup sample and this read: no network numbers
        for (NetDevLine dev : ProcFs.HOST.netDev(Long.toString(pid))) {
            stats.add(NetworkStats.newBuilder()
                    .setName(dev.name())
                    .setRxBytes(dev.receive()[0])
                    .setRxPackets(dev.receive()[1])
                    .setRxErrors(dev.receive()[2])
                    .setRxDropped(dev.receive()[3])
                    .setTxBytes(dev.transmit()[0])
                    .setTxPackets(dev.transmit()[1])
                    .setTxErrors(dev.transmit()[2])
                    .setTxDropped(dev.transmit()[3])
                    .build());
        }
        return stats;
    }
}
