package dev.katashim.agent.guest.sandbox;

import dev.katashim.agent.guest.AgentStatus;
import dev.katashim.agent.guest.container.Container;
import dev.katashim.agent.guest.storage.MountedStorage;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * The sandbox this agent serves: its identity (set by CreateSandbox), its containers by id, the
 * storages mounted for the whole sandbox, and the OOM notifications waiting for GetOOMEvent.
 */
public final class Sandbox {
    private final ConcurrentHashMap<String, Container> containers = new ConcurrentHashMap<>();
    private final LinkedBlockingQueue<String> oomEvents = new LinkedBlockingQueue<>();
    private final List<MountedStorage> storages = new ArrayList<>();
    private String id = "";
    private String hostname = "";
    private boolean created;

    public synchronized boolean created() {
        return created;
    }

    public synchronized String id() {
        return id;
    }

    public synchronized String hostname() {
        return hostname;
    }

    public synchronized void markCreated(String sandboxId, String sandboxHostname, List<MountedStorage> mounted) {
        this.id = sandboxId;
        this.hostname = sandboxHostname;
        this.created = true;
        this.storages.addAll(mounted);
    }

    /** Forgets the sandbox identity and hands back its storages for unmounting. */
    public synchronized List<MountedStorage> markDestroyed() {
        List<MountedStorage> mounted = List.copyOf(storages);
        storages.clear();
        created = false;
        id = "";
        hostname = "";
        oomEvents.clear();
        return mounted;
    }

    /** Adds a container; ALREADY_EXISTS if the id is taken. */
    public void add(Container container) {
        if (containers.putIfAbsent(container.id(), container) != null) {
            throw AgentStatus.alreadyExists("container " + AgentStatus.quote(container.id()));
        }
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
