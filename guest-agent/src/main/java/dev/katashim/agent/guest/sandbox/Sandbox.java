package dev.katashim.agent.guest.sandbox;

import dev.katashim.agent.guest.AgentStatus;
import dev.katashim.agent.guest.container.Container;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * The sandbox this agent serves: its identity (set by CreateSandbox), its containers by id, the
 * first of them (whose pid namespace others may share, as upstream's agent treats the first as the
 * sandbox's infra container), and the OOM kills waiting for GetOOMEvent, one entry each.
 */
public final class Sandbox {
    private final ConcurrentHashMap<String, Container> containers = new ConcurrentHashMap<>();
    private final LinkedBlockingQueue<String> oomEvents = new LinkedBlockingQueue<>();
    private String id = "";
    private String hostname = "";
    private boolean created;
    private Container first;

    public synchronized boolean created() {
        return created;
    }

    public synchronized String id() {
        return id;
    }

    public synchronized String hostname() {
        return hostname;
    }

    public synchronized void markCreated(String sandboxId, String sandboxHostname) {
        this.id = sandboxId;
        this.hostname = sandboxHostname;
        this.created = true;
    }

    /** Forgets the sandbox: its identity, its first container and the OOM kills not fetched. */
    public synchronized void markDestroyed() {
        created = false;
        id = "";
        hostname = "";
        first = null;
        oomEvents.clear();
    }

    /** Adds a container; ALREADY_EXISTS if the id is taken. */
    public synchronized void add(Container container) {
        if (containers.putIfAbsent(container.id(), container) != null) {
            throw AgentStatus.alreadyExists("container " + AgentStatus.quote(container.id()));
        }
        if (first == null) {
            first = container;
        }
    }

    /** The sandbox's first container (its pid namespace is the one containers asking for sandbox_pidns join), or null. */
    public synchronized Container first() {
        return first;
    }

    /** Reserves an id before the slow part of creating a container. */
    public boolean contains(String containerId) {
        return containers.containsKey(containerId);
    }

    public Container get(String containerId) {
        Container container = containers.get(containerId);
        if (container == null) {
            throw AgentStatus.containerNotFound(containerId);
        }
        return container;
    }

    public void remove(Container container) {
        containers.remove(container.id(), container);
    }

    public Collection<Container> containers() {
        return List.copyOf(containers.values());
    }

    public void oom(String containerId) {
        oomEvents.add(containerId);
    }

    /** Blocks until some container of the sandbox hits an OOM; its id. */
    public String nextOom() throws InterruptedException {
        return oomEvents.take();
    }
}
