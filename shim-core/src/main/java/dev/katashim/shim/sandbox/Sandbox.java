package dev.katashim.shim.sandbox;

import dev.katashim.protocols.containerd.types.Mount;
import dev.katashim.protocols.kata.agent.CgroupStats;
import dev.katashim.protocols.kata.agent.LinuxResources;
import dev.katashim.protocols.kata.agent.Process;
import dev.katashim.shim.io.AgentStreams;
import dev.katashim.shim.oci.Bundle;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * One pod's sandbox as the Task service uses it: the containers and processes it runs, by the
 * ids the agent knows them by (a container's init is {@code (containerId, containerId)}), and its
 * end. Every call may block on the agent; none takes the Task service's lock. A call after the
 * sandbox ended fails with UNAVAILABLE.
 */
public interface Sandbox {
    String id();

    /** The pid every task of this sandbox reports: the hypervisor's, as upstream. */
    int pid();

    /** Makes the container's root filesystem reachable by the agent and creates it there; undone on failure. */
    void createContainer(String containerId, Bundle bundle, List<Mount> rootfs) throws Exception;

    void startContainer(String containerId) throws Exception;

    /** Starts an exec process {@code execId} (the agent's id for it) in a running container. */
    void execProcess(String containerId, String execId, Process process) throws Exception;

    /** {@code execId} empty: the container's init. */
    void signalProcess(String containerId, String execId, int signal) throws Exception;

    /** Blocks until the process exits; its exit status. */
    int waitProcess(String containerId, String execId) throws Exception;

    void resizePty(String containerId, String execId, int rows, int columns) throws Exception;

    void pauseContainer(String containerId) throws Exception;

    void resumeContainer(String containerId) throws Exception;

    CgroupStats statsContainer(String containerId) throws Exception;

    /** Applies new resource limits to the container's cgroup in the guest. */
    void updateContainer(String containerId, LinuxResources resources) throws Exception;

    /** Blocks until a container of the sandbox hits its memory limit; that container's id. */
    String awaitOom() throws Exception;

    /**
     * Removes the container from the agent and gives its host resources back. Failing to remove a
     * container that never ran is an error; after it ran (or once the sandbox ended) it is not.
     */
    void deleteContainer(String containerId) throws Exception;

    /** The process's stdio as the agent serves it. */
    AgentStreams streams(String containerId, String execId);

    /** Completes once the sandbox is gone: destroyed, or its hypervisor died on its own. */
    CompletableFuture<Void> ended();

    /** Destroys the sandbox: agent, hypervisor, host resources, directory. Runs once; others wait for it. */
    void destroy();
}
