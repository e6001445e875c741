package dev.katashim.agent.guest.sandbox;

import dev.katashim.agent.guest.container.Container;

import java.time.Duration;

/**
 * Looks at every container's OOM counter now and then: a process the kernel OOM-kills need not
 * be one the agent reaps (a child of the init), so a process's end alone would not tell. The
 * counters are also read when a container's process ends and before its cgroup is deleted.
 */
public final class OomPoller {
    static final Duration INTERVAL = Duration.ofMillis(500);

    private final Thread thread;

    private OomPoller(Thread thread) {
        this.thread = thread;
    }

    public static OomPoller start(Sandbox sandbox) {
        return new OomPoller(Thread.ofVirtual().name("oom-poller").start(() -> {
            try {
                while (!Thread.currentThread().isInterrupted()) {
                    Thread.sleep(INTERVAL);
                    for (Container container : sandbox.containers()) {
                        container.reportOomKills();
                    }
                }
            } catch (InterruptedException e) {
                // stopped
            }
        }));
    }

    public void stop() {
        thread.interrupt();
    }
}
