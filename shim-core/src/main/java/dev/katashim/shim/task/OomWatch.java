package dev.katashim.shim.task;

import dev.katashim.shim.events.TaskEvents;
import dev.katashim.shim.sandbox.Sandbox;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;

/**
 * Publishes {@code /tasks/oom} for every container of the sandbox whose cgroup hits its memory
 * limit, as upstream's shim does: one watcher per sandbox asks the agent (GetOOMEvent blocks until
 * an OOM) until the sandbox ends; another failure is logged and the question asked again a second later.
 */
final class OomWatch {
    private static final Logger log = LoggerFactory.getLogger(OomWatch.class);
    private static final Duration RETRY = Duration.ofSeconds(1);

    private OomWatch() {
    }

    static void start(Sandbox sandbox, TaskEvents events) {
        Thread.ofVirtual().name("oom-" + sandbox.id()).start(() -> {
            while (!sandbox.ended().isDone()) {
                try {
                    String containerId = sandbox.awaitOom();
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
