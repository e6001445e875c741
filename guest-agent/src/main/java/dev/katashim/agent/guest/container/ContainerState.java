package dev.katashim.agent.guest.container;

import dev.katashim.agent.guest.process.ContainerProcess;

/**
 * Where a container is in its life. Created: its bundle exists, runc knows nothing yet.
 * Running and Paused: its init process runs under {@code runc run}. Stopped: the init ended (or
 * was killed before it ever started) and runc has already destroyed the container.
 */
public sealed interface ContainerState {

    String name();

    record Created() implements ContainerState {
        @Override
        public String name() {
            return "created";
        }
    }

    record Running(ContainerProcess init) implements ContainerState {
        @Override
        public String name() {
            return "running";
        }
    }

    record Paused(ContainerProcess init) implements ContainerState {
        @Override
        public String name() {
            return "paused";
        }
    }

    record Stopped(int exitStatus) implements ContainerState {
        @Override
        public String name() {
            return "stopped";
        }
    }
}
