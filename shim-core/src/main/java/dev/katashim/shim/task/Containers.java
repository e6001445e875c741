package dev.katashim.shim.task;

import dev.katashim.ttrpc.status.StatusCode;
import dev.katashim.ttrpc.status.TtrpcException;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** The containers of the shim's sandbox by id: read without the Task service's lock, changed under it. */
final class Containers {
    private final Map<String, Container> byId = new ConcurrentHashMap<>();

    Container get(String id) {
        Container container = byId.get(id);
        if (container == null) {
            throw TtrpcException.of(StatusCode.NOT_FOUND, "container does not exist %s: not found", id);
        }
        return container;
    }

    void requireAbsent(String id) {
        if (byId.containsKey(id)) {
            throw TtrpcException.of(StatusCode.ALREADY_EXISTS, "container %s: already exists", id);
        }
    }

    void add(Container container) {
        byId.put(container.id(), container);
    }

    void remove(String id) {
        byId.remove(id);
    }

    boolean contains(String id) {
        return byId.containsKey(id);
    }

    boolean isEmpty() {
        return byId.isEmpty();
    }

    /** The processes still running (or paused) in any container. */
    List<ShimProcess> aliveProcesses() {
        return byId.values().stream().flatMap(c -> c.processes().stream()).filter(ShimProcess::isAlive).toList();
    }
}
