package dev.katashim.agent.guest;

import dev.katashim.agent.guest.support.AgentFixture;
import dev.katashim.agent.guest.support.Specs;
import dev.katashim.protocols.kata.agent.Hook;
import dev.katashim.protocols.kata.agent.Hooks;
import dev.katashim.protocols.kata.agent.StartContainerRequest;
import com.google.protobuf.Empty;
import dev.katashim.ttrpc.client.CallOptions;
import dev.katashim.ttrpc.status.StatusCode;
import dev.katashim.ttrpc.status.TtrpcException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * A start that runc cannot finish in the caller's time (a createRuntime hook that hangs) fails
 * with the agent's reason before the caller's deadline, and leaves nothing running.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SlowStartTest {
    /** The caller's deadline: the agent keeps back 2 s of it (a tenth, at least 1 s) to clean up and answer. */
    private static final Duration CALLER_DEADLINE = Duration.ofSeconds(20);
    /** How long a SIGKILLed process may take to be gone (a zombie has no command line), on a loaded machine. */
    private static final Duration KILL_DEADLINE = Duration.ofSeconds(10);
    private static AgentFixture agent;

    @BeforeAll
    static void startAgent() throws Exception {
        agent = AgentFixture.start();
    }

    @AfterEach
    void noLeftovers() throws Exception {
        agent.cleanUp();
    }

    @AfterAll
    static void stopAgent() throws Exception {
        if (agent != null) {
            agent.close();
        }
    }

    @Test
    void aStartSlowerThanTheCallersDeadlineFailsWithTheAgentsReasonAndKillsWhatRuncStarted() throws Exception {
        Path marker = agent.dir.resolve("hook-ran");
        Hook hang = Hook.newBuilder().setPath("/bin/sh")
                .addArgs("sh").addArgs("-c").addArgs("touch " + marker + "; exec sleep 600").build();
        agent.create("slow", Specs.busybox(agent.rootfs, "true")
                .setHooks(Hooks.newBuilder().addCreateRuntime(hang)).build());

        TtrpcException e = catchThrowableOfType(TtrpcException.class, () -> agent.client.blockingCall(AgentFixture.SERVICE,
                "StartContainer", StartContainerRequest.newBuilder().setContainerId("slow").build(), Empty.parser(),
                CallOptions.timeout(CALLER_DEADLINE)));

        assertThat(marker).as("runc ran the hook").exists();
        assertThat(e).as("StartContainer must fail").isNotNull();
        assertThat(e.code()).as("the agent's answer, not the caller's deadline: %s", e.getMessage()).isEqualTo(StatusCode.INTERNAL);
        assertThat(e.getMessage()).containsPattern("did not start within 1[78]\\.\\d s").contains("create_container_timeout");
        long deadline = System.nanoTime() + KILL_DEADLINE.toNanos();
        while (hookProcesses(marker) > 0 && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertThat(hookProcesses(marker)).as("the hung hook is killed with runc").isZero();
        agent.assertServing();
    }

    /** Live processes whose command line names the marker: the hook's shell or its sleep. */
    private static long hookProcesses(Path marker) {
        return ProcessHandle.allProcesses()
                .filter(p -> p.info().commandLine().map(line -> line.contains(marker.toString())).orElse(false))
                .count();
    }
}
