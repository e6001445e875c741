package dev.katashim.shim.resource.cgroup;

import dev.katashim.metrics.overhead.Usage;
import java.io.IOException;
import java.util.List;

/**
 * The sandbox's cgroup on the host: what the shim starts for a sandbox (the VMM, or the host agent
 * of the no-VM sandbox) goes in, and its usage is the host side of the pod overhead.
 *
 * <pre>{@code
 * HostCgroup cgroup = HostCgroup.create("/kata_overhead/" + sandboxId);   // v1 or v2, as the host has it
 * List<String> command = new ArrayList<>(cgroup.launchPrefix());           // joins the cgroup, then execs
 * command.addAll(vmmCommand);                                              //   so it is charged from its first page
 * Process vmm = new ProcessBuilder(command).start();
 * cgroup.addProcess(otherPid);                                             // or move a running process (its CPU
 * Usage host = cgroup.usage();                                             //   counts from now; memory it already
 * cgroup.remove();                                                         //   has may stay charged where it was)
 * }</pre>
 * Memory pages are charged to the cgroup a process is in when it touches them; cgroup v1 can move
 * old charges along ({@code memory.move_charge_at_immigrate}, asked for here) but recent kernels
 * ignore that: start the process inside, with {@link #launchPrefix()}.
 */
public sealed interface HostCgroup permits CgroupV1, CgroupV2 {

    /**
     * Creates (or opens) the cgroup {@code path} ("/a/b", relative to the hierarchies' roots) with
     * the cpu and memory controllers, on cgroup v1 or v2 as this host runs.
     */
    static HostCgroup create(String path) throws IOException {
        CgroupMounts mounts = CgroupMounts.ofThisProcess();
        if (mounts.isV1()) {
            return CgroupV1.create(mounts, path);
        }
        if (mounts.unified() != null) {
            return CgroupV2.create(mounts.unified(), path);
        }
        throw new IOException("no cgroup hierarchy with cpu accounting and memory is mounted (see /proc/self/mountinfo)");
    }

    /** The cgroup's path relative to the hierarchy roots. */
    String path();

    /** The {@code cgroup.procs} file of each hierarchy this cgroup is in. */
    List<java.nio.file.Path> procsFiles();

    /**
     * A command prefix that puts the process in this cgroup and then execs the rest of the command
     * line: {@code sh -c '<join>; exec "$@"' kata-cgroup-exec <command...>}. Exit status 125 if it
     * cannot join.
     */
    default List<String> launchPrefix() {
        StringBuilder script = new StringBuilder("for p in");
        for (java.nio.file.Path file : procsFiles()) {
            script.append(" '").append(file.toString().replace("'", "'\\''")).append('\'');
        }
        script.append("; do echo $$ > \"$p\" || exit 125; done; exec \"$@\"");
        return List.of("/bin/sh", "-c", script.toString(), "kata-cgroup-exec");
    }

    /** Moves process {@code pid} (all its threads) into this cgroup. */
    void addProcess(long pid) throws IOException;

    /** The processes in it now. */
    List<Long> processes() throws IOException;

    /** CPU time used by everything in it so far (ns) and the memory it uses now (bytes). */
    Usage usage() throws IOException;

    /** Moves any process still in it to its parent, then removes it. Removing a missing cgroup is no error. */
    void remove() throws IOException;

    /** Reads a cgroup.procs file. */
    static List<Long> parseProcs(String text) {
        return text.lines().map(String::trim).filter(l -> !l.isEmpty()).map(Long::parseLong).toList();
    }
}
