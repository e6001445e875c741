package dev.katashim.metrics.monitor;

import dev.katashim.metrics.server.ManagementServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * The sandboxes of this node, kept up to date by the kernel's notifications (inotify, through the
 * JDK's WatchService) rather than by scanning: a sandbox is known from the moment its
 * {@code <root>/<id>/shim-monitor.sock} appears, and forgotten when the socket or the directory goes.
 * Several roots are watched at once (upstream's Go runtime uses {@code /run/vc/sbs}, runtime-rs
 * {@code /run/kata}); a root that does not exist yet is waited for by watching its nearest
 * existing ancestor. When the kernel's event queue overflows, everything is listed again.
 */
public final class SandboxWatcher implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SandboxWatcher.class);
    private static final WatchEvent.Kind<?>[] KINDS = {StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_DELETE};

    /** What a watched directory is to us. */
    private sealed interface Watched {
    }

    /** A sandbox root that exists. */
    private record Root(Path path) implements Watched {
    }

    /** An existing ancestor of roots that do not exist yet. */
    private record Ancestor(Path path) implements Watched {
    }

    /** One sandbox's directory, waiting for or holding its socket. */
    private record SandboxDir(Path path) implements Watched {
    }

    private final List<Path> roots;
    private final WatchService watch;
    private final Map<WatchKey, Watched> keys = new ConcurrentHashMap<>();
    private final Map<String, Path> sockets = new ConcurrentSkipListMap<>();
    private final Thread thread;
    private boolean rescanLater;

    private SandboxWatcher(List<Path> roots, WatchService watch) {
        this.roots = List.copyOf(roots);
        this.watch = watch;
        this.thread = Thread.ofPlatform().daemon().name("sandbox-watcher").unstarted(this::run);
    }

    /** Watches {@code roots} (which need not exist yet); the sandboxes already there are known on return. */
    public static SandboxWatcher start(List<Path> roots) throws IOException {
        SandboxWatcher watcher = new SandboxWatcher(roots, FileSystems.getDefault().newWatchService());
        synchronized (watcher) {
            watcher.rescan();
        }
        watcher.thread.start();
        return watcher;
    }

    /** The sandbox ids whose management socket is there, sorted. */
    public List<String> sandboxes() {
        return List.copyOf(sockets.keySet());
    }

    /** The management socket of sandbox {@code id}, if it is known. */
    public Optional<Path> socket(String id) {
        return Optional.ofNullable(sockets.get(id));
    }

    public List<Path> roots() {
        return roots;
    }

    private void run() {
        try {
            while (true) {
                WatchKey key = watch.take();
                synchronized (this) {
                    handle(key);
                }
            }
        } catch (InterruptedException | ClosedWatchServiceException e) {
            // closed
        }
    }

    private void handle(WatchKey key) {
        Watched watched = keys.get(key);
        List<WatchEvent<?>> events = key.pollEvents();
        if (watched == null) {
            return;
        }
        if (!key.reset()) { // the directory itself is gone
            keys.remove(key);
            if (watched instanceof SandboxDir d) {
                forget(d.path());
            } else {
                rescan(); // a root or an ancestor went: watch what is left of the way to it
                return;
            }
        }
        for (WatchEvent<?> event : events) {
            if (event.kind() == StandardWatchEventKinds.OVERFLOW) {
                log.info("sandbox watcher: events were lost; listing the sandbox roots again");
                rescan();
                return;
            }
        }
        for (WatchEvent<?> event : events) {
            Path child = watched instanceof Root r ? r.path().resolve((Path) event.context())
                    : watched instanceof SandboxDir d ? d.path().resolve((Path) event.context()) : null;
            boolean created = event.kind() == StandardWatchEventKinds.ENTRY_CREATE;
            switch (watched) {
                case Ancestor a -> {
                    Path step = a.path().resolve((Path) event.context());
                    if (roots.stream().anyMatch(root -> root.startsWith(step))) {
                        rescan(); // a root, or a step towards one, appeared or went
                        return;
                    }
                }
                case Root r -> {
                    if (created) {
                        sandboxDirectory(child);
                    } else {
                        forget(child);
                    }
                }
                case SandboxDir d -> {
                    if (child.getFileName().toString().equals(ManagementServer.SOCKET_NAME)) {
                        if (created) {
                            known(d.path());
                        } else {
                            sockets.remove(d.path().getFileName().toString(), child);
                        }
                    }
                }
            }
        }
    }

    /** Lists every root again (at start, after an overflow, when an ancestor changed). */
    private void rescan() {
        do {
            rescanLater = false;
            rescanOnce();
        } while (rescanLater);
    }

    private void rescanOnce() {
        keys.keySet().removeIf(key -> {
            key.cancel();
            return true;
        });
        Map<String, Path> before = Map.copyOf(sockets);
        sockets.clear();
        for (Path root : roots) {
            if (Files.isDirectory(root)) {
                // its parent too: a removed directory is told to its own watch only once nothing holds it (a
                // shim's listening socket inside does), while its parent hears of the removal at once
                Path parent = root.getParent();
                if (parent != null) {
                    register(parent, new Ancestor(parent));
                }
                register(root, new Root(root));
                try (DirectoryStream<Path> dirs = Files.newDirectoryStream(root, Files::isDirectory)) {
                    for (Path dir : dirs) {
                        sandboxDirectory(dir);
                    }
                } catch (IOException e) {
                    log.warn("cannot list the sandbox root {}: {}", root, e.getMessage());
                }
            } else {
                watchTheWayTo(root);
            }
        }
        if (!before.equals(sockets)) {
            log.debug("sandboxes now: {}", sockets.keySet());
        }
    }

    /**
     * Watches the nearest existing ancestor of a missing root; a step created while the watch was
     * being set up would never be told, so look again until the nearest ancestor stays the same.
     */
    private void watchTheWayTo(Path root) {
        Path watched = null;
        while (true) {
            if (Files.isDirectory(root)) {
                rescanLater = true; // it appeared meanwhile: list it as a root
                return;
            }
            Path ancestor = nearestExisting(root);
            if (ancestor == null || ancestor.equals(watched)) {
                return;
            }
            register(ancestor, new Ancestor(ancestor));
            watched = ancestor;
        }
    }

    private static Path nearestExisting(Path path) {
        Path ancestor = path.getParent();
        while (ancestor != null && !Files.isDirectory(ancestor)) {
            ancestor = ancestor.getParent();
        }
        return ancestor;
    }

    private void sandboxDirectory(Path dir) {
        if (!Files.isDirectory(dir)) {
            return;
        }
        register(dir, new SandboxDir(dir));
        known(dir); // the socket may have come before the watch did
    }

    private void known(Path dir) {
        Path socket = dir.resolve(ManagementServer.SOCKET_NAME);
        if (!Files.exists(socket)) {
            return;
        }
        Path first = sockets.putIfAbsent(dir.getFileName().toString(), socket);
        if (first != null && !first.equals(socket)) {
            log.warn("sandbox {} is under two roots: {} is served, {} is not", dir.getFileName(), first, socket);
        }
    }

    private void forget(Path dir) {
        String id = dir.getFileName().toString();
        sockets.remove(id, dir.resolve(ManagementServer.SOCKET_NAME));
        keys.entrySet().removeIf(e -> e.getValue() instanceof SandboxDir d && d.path().equals(dir) && cancel(e.getKey()));
    }

    private static boolean cancel(WatchKey key) {
        key.cancel();
        return true;
    }

    private void register(Path dir, Watched what) {
        try {
            keys.put(dir.register(watch, KINDS), what);
        } catch (IOException e) {
            log.debug("cannot watch {}: {}", dir, e.getMessage()); // gone meanwhile
        }
    }

    @Override
    public void close() {
        try {
            watch.close();
        } catch (IOException e) {
            log.debug("closing the sandbox watcher: {}", e.toString());
        }
        thread.interrupt();
        try {
            thread.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The default roots: {@code $KATA_SHIM_SANDBOX_ROOT} or {@code /run/vc/sbs} (the Go runtime's), and {@code /run/kata} (runtime-rs's). */
    public static List<Path> defaultRoots() {
        List<Path> defaults = new ArrayList<>(List.of(SandboxRoot.fromEnvironment().path()));
        if (!defaults.contains(RUNTIME_RS_ROOT)) {
            defaults.add(RUNTIME_RS_ROOT);
        }
        return Collections.unmodifiableList(defaults);
    }

    /** Where runtime-rs keeps its sandboxes' directories. */
    public static final Path RUNTIME_RS_ROOT = Path.of("/run/kata");
}
