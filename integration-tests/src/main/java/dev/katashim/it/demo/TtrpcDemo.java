package dev.katashim.it.demo;

import dev.katashim.it.peers.EventsForwarder;
import dev.katashim.it.peers.TaskApiClient;
import dev.katashim.it.support.BusyboxRootfs;
import dev.katashim.it.support.CommandResult;
import dev.katashim.it.support.PrivateContainerd;
import dev.katashim.protocols.containerd.events.TaskOOM;
import dev.katashim.protocols.containerd.task.v2.ConnectResponse;
import dev.katashim.protocols.containerd.task.v2.StateResponse;
import dev.katashim.protocols.containerd.types.task.ProcessInfo;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Collectors;

/**
 * The main job until our shim exists: a private containerd runs a busybox container through its
 * runc shim, and our ttrpc client talks to that shim (Connect, State, Pids) and to containerd's
 * event service (Forward), printing what it got beside what ctr says.
 */
public final class TtrpcDemo {
    public static void main(String[] args) throws Exception {
        Path dir = Files.createTempDirectory(Path.of("/tmp"), "ktd");
        try (PrivateContainerd containerd = PrivateContainerd.start()) {
            System.out.println("containerd " + containerd.grpcAddress() + " (namespace " + containerd.namespace() + ")");
            String id = containerd.uniqueId("demo");
            BusyboxRootfs rootfs = BusyboxRootfs.create(dir.resolve("rootfs"));
            CommandResult run = containerd.ctr("run", "-d", "--rootfs", rootfs.path().toString(), id, "/bin/sh", "-c", "sleep 300 & sleep 301");
            if (!run.succeeded()) {
                throw new IllegalStateException("ctr run failed: " + run);
            }
            System.out.println("\n$ ctr task ls\n" + containerd.ctr("task", "ls").stdout());
            System.out.println("$ ctr task ps " + id + "\n" + containerd.ctr("task", "ps", id).stdout());

            Path socket = containerd.shimSocket(id);
            System.out.println("our ttrpc client -> containerd-shim-runc-v2 at unix://" + socket);
            try (TaskApiClient shim = TaskApiClient.connect(socket, containerd.namespace())) {
                ConnectResponse connect = shim.connect(id);
                System.out.printf("  Connect: shim pid %d, task pid %d%n", connect.getShimPid(), connect.getTaskPid());
                StateResponse state = shim.state(id);
                System.out.printf("  State:   id %s, pid %d, status %s%n", state.getId(), state.getPid(), state.getStatus());
                String pids = shim.pids(id).getProcessesList().stream().map(ProcessInfo::getPid).map(String::valueOf)
                        .collect(Collectors.joining(", "));
                System.out.println("  Pids:    " + pids);
            }
            try (EventsForwarder events = new EventsForwarder(containerd.ttrpcAddress())) {
                events.forward(containerd.namespace(), "/tasks/oom", TaskOOM.newBuilder().setContainerId(id).build());
                System.out.println("our ttrpc client -> containerd Events/Forward: /tasks/oom for " + id + " accepted");
            }
            containerd.ctr("task", "kill", "-s", "KILL", id);
        } finally {
            try (var walk = Files.walk(dir)) {
                walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
        System.out.println("\ncleaned up: containerd stopped, container removed, temp dirs deleted");
        System.exit(0);
    }
}
