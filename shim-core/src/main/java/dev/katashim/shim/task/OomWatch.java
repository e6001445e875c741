package dev.katashim.shim.task;

import dev.katashim.shim.events.TaskEvents;
import dev.katashim.shim.sandbox.Sandbox;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.function.Predicate;

/**
 * Publishes {@code /tasks/oom} for every container of the sandbox whose cgroup hits its memory
 * limit, as upstream's shim does: one watcher per sandbox asks the agent (GetOOMEvent blocks until
 * an OOM) until the sandbox ends; another failure is logged and the question asked again a second later.
 * The answer is the guest's word: an id that names no container of this shim is dropped (logged
 * at most {@link #MAX_LOGGED_UNKNOWN} times), so a hostile agent cannot make the shim publish
 * events about other tasks or flood containerd with made-up ones.
 */
final class OomWatch {
    private static final Logger log = LoggerFactory.getLogger(OomWatch.class);
    private static final Duration RETRY = Duration.ofSeconds(1);
    static final int MAX_LOGGED_UNKNOWN = 10;

    private OomWatch() {
    }

    static void start(Sandbox sandbox, TaskEvents events, Predicate<String> known) {
        Thread.ofVirtual().name("oom-" + sandbox.id()).start(() -> {
            int unknown = 0;
            while (!sandbox.ended().isDone()) {
                try {
                    String containerId = sandbox.awaitOom();
                    if (!known.test(containerId)) {
                        if (unknown++ < MAX_LOGGED_UNKNOWN) {
                            log.warn("sandbox {}: the agent reports an OOM in '{}', no container of this shim: ignored",
                                    sandbox.id(), containerId.length() > 80 ? containerId.substring(0, 80) + "..." : containerId);
                        }
                        continue;
                    }
                    log.info("container {} hit its memory limit", containerId);
                    events.oom(containerId);
                } catch (InterruptedException e) {
                    return;
                } catch (Exception e) {
                    if (sandbox.ended().isDone()) {
                        return;
                    }
                    log.warn("sandbox {}: GetOOMEvent failed: {}; asking again in {} s", sandbox.id(), e.getMessage(), RETRY.toSeconds());
                    try {
                        Thread.sleep(RETRY);
                    } catch (InterruptedException stop) {
                        return;
                    }
                }
            }
        });
    }
}
