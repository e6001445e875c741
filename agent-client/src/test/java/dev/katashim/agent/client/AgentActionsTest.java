package dev.katashim.agent.client;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

class AgentActionsTest {

    /**
     * The {@code action} items of kata_shim_agent_rpc_durations_histogram_milliseconds, read from the
     * metrics reference: its row's Labels cell, {@code `action`: `grpc.CheckRequest`, ...}.
     */
    static Set<String> specActions() throws IOException {
        Path spec = specFile();
        String row = Files.readAllLines(spec).stream()
                .filter(l -> l.startsWith("| `kata_shim_agent_rpc_durations_histogram_milliseconds` |"))
                .findFirst().orElseThrow(() -> new AssertionError("no agent histogram row in " + spec));
        String[] cells = row.split("\\|");
        if (cells.length != 7) {
            throw new AssertionError("the agent histogram's row has 6 cells (Family, Type, Unit, Labels, Origin, Help): " + row);
        }
        Matcher list = Pattern.compile("`action`: (.+)").matcher(cells[4].strip());
        if (!list.matches()) {
            throw new AssertionError("no action items in the agent histogram's row: " + row);
        }
        Set<String> actions = new LinkedHashSet<>();
        for (String item : list.group(1).split(", ")) {
            Matcher m = Pattern.compile("`(grpc\\.[A-Za-z]+)`").matcher(item);
            if (!m.matches()) {
                throw new AssertionError("cannot read the action '" + item + "' in " + row);
            }
            actions.add(m.group(1));
        }
        return actions;
    }

    /**
     * The metrics reference, docs/metrics.md of this checkout: looked for in the working directory
     * and its parents up to the repository root (the folder holding mvnw), never beyond it.
     */
    static Path specFile() {
        Path start = Path.of("").toAbsolutePath();
        for (Path dir = start; dir != null; dir = dir.getParent()) {
            Path candidate = dir.resolve("docs/metrics.md");
            if (Files.isRegularFile(candidate)) {
                return candidate;
            }
            if (Files.isRegularFile(dir.resolve("mvnw"))) {
                break;
            }
        }
        throw new AssertionError("docs/metrics.md not found in the repository holding " + start);
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
        AgentTimeouts slowGuest = t.withCreateContainer(Duration.ofSeconds(300));
        assertThat(slowGuest.forMethod("CreateContainer")).as("create_container_timeout").hasSeconds(300);
        assertThat(slowGuest.forMethod("StartContainer")).as("our agent makes the process at start").hasSeconds(300);
        assertThat(slowGuest.forMethod("ExecProcess")).hasSeconds(60);
        assertThat(slowGuest.forMethod("Check")).hasSeconds(30);
    }
}
