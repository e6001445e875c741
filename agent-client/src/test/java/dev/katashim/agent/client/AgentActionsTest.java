package dev.katashim.agent.client;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

class AgentActionsTest {

    /** The spec's {@code action} items of kata_shim_agent_rpc_durations_histogram_milliseconds, read from the spec file. */
    static Set<String> specActions() throws IOException {
        Path spec = specFile();
        String row = Files.readAllLines(spec).stream()
                .filter(l -> l.contains("`kata_shim_agent_rpc_durations_histogram_milliseconds`"))
                .findFirst().orElseThrow(() -> new AssertionError("no agent histogram row in " + spec));
        Set<String> actions = new LinkedHashSet<>();
        Matcher m = Pattern.compile("<li>`(grpc\\.[A-Za-z]+)`</li>").matcher(row);
        while (m.find()) {
            actions.add(m.group(1));
        }
        return actions;
    }

    /** The metrics spec in the project's shared folder, which sits beside the checkout (here and in CI). */
    static Path specFile() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path candidate = dir.resolve("shared/spec/kata-metrics-in-runtime-rs.md");
            if (Files.isRegularFile(candidate)) {
                return candidate;
            }
        }
        throw new AssertionError("shared/spec/kata-metrics-in-runtime-rs.md not found beside the checkout of " + Path.of("").toAbsolutePath());
    }

    @Test
    void everyActionOfTheSpecIsWhatSomeRpcIsCalled() throws IOException {
        Set<String> spec = specActions();
        assertThat(spec).hasSizeGreaterThan(25).contains("grpc.CreateContainerRequest", "grpc.WriteStreamRequest", "grpc.CheckRequest");
        Set<String> ours = new LinkedHashSet<>();
        for (String method : AgentActions.agentMethods()) {
            ours.add(AgentActions.of(AgentActions.AGENT_SERVICE, method));
        }
        ours.add(AgentActions.of(AgentActions.HEALTH_SERVICE, "Check"));
        assertThat(ours).containsAll(spec);
    }

    @Test
    void namesComeFromTheRequestMessage() {
        assertThat(AgentActions.of("grpc.AgentService", "WriteStdin")).isEqualTo("grpc.WriteStreamRequest");
        assertThat(AgentActions.of("grpc.AgentService", "ReadStdout")).isEqualTo("grpc.ReadStreamRequest");
        assertThat(AgentActions.of("grpc.AgentService", "GetGuestDetails")).isEqualTo("grpc.GuestDetailsRequest");
        assertThat(AgentActions.of("grpc.AgentService", "MemAgentMemcgSet")).isEqualTo("grpc.MemAgentMemcgConfig");
        assertThat(AgentActions.of("grpc.Health", "Check")).isEqualTo("grpc.CheckRequest");
        assertThat(AgentActions.of("grpc.AgentService", "NoSuchThing")).isEqualTo("grpc.AgentService/NoSuchThing");
        assertThat(AgentActions.agentMethods()).hasSize(43);
    }

    @Test
    void blockingCallsHaveNoTimeoutOthersDo() {
        AgentTimeouts t = AgentTimeouts.DEFAULTS;
        for (String blocking : new String[]{"WaitProcess", "GetOOMEvent", "ReadStdout", "ReadStderr"}) {
            assertThat(t.forMethod(blocking)).as(blocking).isNull();
        }
        assertThat(t.forMethod("Check")).hasSeconds(30);
        assertThat(t.forMethod("CreateContainer")).hasSeconds(60);
        assertThat(t.forMethod("StartContainer")).hasSeconds(60);
    }
}
