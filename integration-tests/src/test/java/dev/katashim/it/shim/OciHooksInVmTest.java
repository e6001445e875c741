package dev.katashim.it.shim;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.katashim.it.support.CommandResult;
import dev.katashim.it.support.Processes;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static dev.katashim.it.shim.VmPod.BOOT_DEADLINE;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * OCI hooks of containers in a VM, run on the host at their points with the container's state on
 * stdin, as upstream runs them (never in the guest): prestart and createRuntime once the container
 * exists, poststart once it runs, poststop once it is deleted. A hook that fails or hangs fails
 * Create naming it; a pod member's failure leaves the pod running, a sandbox container's leaves no
 * sandbox. ctr run has no flag for hooks: the containers run from a config.json (ctr's own default
 * spec, with hooks added) through {@code ctr run --config}.
 */
class OciHooksInVmTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static VmPod pod;
    private static Path dir;
    private static ObjectNode defaultSpec;

    @BeforeAll
    static void startAPod(@TempDir Path tempDir) throws Exception {
        dir = tempDir;
        pod = VmPod.start(dir);
        CommandResult spec = pod.ctr("oci", "spec");
        assertThat(spec.exitCode()).as(spec.toString()).isZero();
        defaultSpec = (ObjectNode) JSON.readTree(spec.stdout());
    }

    @AfterAll
    static void stop() {
        if (pod != null) {
            pod.close();
        }
    }

    /** A hook running {@code script} under /bin/sh, with a PATH (hooks get only the environment the spec gives). */
    private static ObjectNode hook(String script) {
        ObjectNode hook = JSON.createObjectNode().put("path", "/bin/sh");
        hook.putArray("args").add("sh").add("-c").add(script);
        hook.putArray("env").add("PATH=/usr/bin:/bin");
        return hook;
    }

    /** A hook that writes the state it reads on stdin to {@code <dir>/<point>.json}. */
    private static ObjectNode recordingHook(Path out, String point) {
        return hook("cat > " + out.resolve(point + ".json"));
    }

    /**
     * ctr's default spec for container {@code id} as ctr run makes it (root, command, cgroup path,
     * annotations), plus {@code hooks}, written to a file for {@code ctr run --config}.
     */
    private static Path specFile(String id, Map<String, String> annotations, Map<String, List<ObjectNode>> hooks) throws Exception {
        ObjectNode spec = defaultSpec.deepCopy();
        spec.putObject("root").put("path", pod.rootfs);
        ArrayNode args = ((ObjectNode) spec.get("process")).putArray("args");
        VmPod.SLEEP_FOREVER.forEach(args::add);
        ((ObjectNode) spec.get("linux")).put("cgroupsPath", "/" + pod.containerd.namespace() + "/" + id);
        ObjectNode specAnnotations = spec.putObject("annotations");
        annotations.forEach(specAnnotations::put);
        ObjectNode specHooks = spec.putObject("hooks");
        hooks.forEach((point, list) -> list.forEach(specHooks.putArray(point)::add));
        return Files.writeString(dir.resolve(id + ".json"), spec.toString());
    }

    private static Map<String, String> memberAnnotations() {
        return Map.of("io.kubernetes.cri.container-type", "container", "io.kubernetes.cri.sandbox-id", pod.id);
    }

    private static CommandResult run(String id, Path spec) {
        return pod.containerd.ctrWithInput(new byte[0], BOOT_DEADLINE, "run", "-d", "--runtime", VmPod.RUNTIME,
                "--config", spec.toString(), id);
    }

    private static JsonNode state(Path file) throws Exception {
        assertThat(file).as("what the hook wrote").exists();
        return JSON.readTree(file.toFile());
    }

    @Test
    void hooksRunOnTheHostAtTheirPointsWithTheContainersStateOnStdin() throws Exception {
        String member = pod.containerd.uniqueId("hooked");
        Path out = Files.createDirectories(dir.resolve(member));
        Path spec = specFile(member, memberAnnotations(), Map.of(
                "prestart", List.of(recordingHook(out, "prestart")),
                "createRuntime", List.of(recordingHook(out, "createRuntime")),
                "poststart", List.of(recordingHook(out, "poststart")),
                "poststop", List.of(recordingHook(out, "poststop"))));
        CommandResult run = run(member, spec);
        assertThat(run.exitCode()).as(run + "\n" + pod.containerd.log()).isZero();

        String bundle = pod.containerd.state().resolve("io.containerd.runtime.v2.task").resolve(pod.containerd.namespace())
                .resolve(member).toString();
        long hypervisor = pod.hypervisorPid();
        for (String point : List.of("prestart", "createRuntime")) {
            JsonNode state = state(out.resolve(point + ".json"));
            assertThat(state.path("id").asText()).as(point).isEqualTo(member);
            assertThat(state.path("status").asText()).as(point).isEqualTo("created");
            assertThat(state.path("pid").asLong()).as(point + ": every task of a VM sandbox has the hypervisor's pid").isEqualTo(hypervisor);
            assertThat(state.path("bundle").asText()).as(point).isEqualTo(bundle);
            assertThat(state.path("annotations").path("io.kubernetes.cri.sandbox-id").asText()).as(point).isEqualTo(pod.id);
        }
        assertThat(state(out.resolve("poststart.json")).path("status").asText()).isEqualTo("running");
        assertThat(out.resolve("poststop.json")).doesNotExist();

        pod.stopMember(member);
        JsonNode stopped = state(out.resolve("poststop.json"));
        assertThat(stopped.path("id").asText()).isEqualTo(member);
        assertThat(stopped.path("status").asText()).isEqualTo("stopped");
    }

    @Test
    void aFailingOrHangingHookFailsCreateNamingItAndThePodKeepsRunning() throws Exception {
        String failing = pod.containerd.uniqueId("fail");
        CommandResult failed = run(failing, specFile(failing, memberAnnotations(),
                Map.of("prestart", List.of(hook("echo the hook says no; exit 3")))));
        assertThat(failed.exitCode()).isNotZero();
        assertThat(failed.stderr()).contains("prestart hook /bin/sh failed with exit status 3: the hook says no");
        assertMemberGone(failing);

        String hanging = pod.containerd.uniqueId("hang");
        String marker = UUID.randomUUID().toString();
        ObjectNode hangs = hook("echo waiting forever; sleep 600; echo " + marker).put("timeout", 2);
        CommandResult timedOut = run(hanging, specFile(hanging, memberAnnotations(), Map.of("createRuntime", List.of(hangs))));
        assertThat(timedOut.exitCode()).isNotZero();
        assertThat(timedOut.stderr()).contains("createRuntime hook /bin/sh timed out after 2 s (Hook timeout): waiting forever");
        assertThat(Processes.matching(p -> p.commandLine().contains(marker))).as("the hung hook, killed").isEmpty();
        assertMemberGone(hanging);

        assertThat(pod.exec(pod.id, "echo alive").stdout()).isEqualTo("alive\n");
        assertThat(pod.taskStatus(pod.id)).isEqualTo("RUNNING");
    }

    /** Its Create failed: no task, nothing of it mounted on the host, its container record removable. */
    private static void assertMemberGone(String member) throws Exception {
        assertThat(pod.taskStatus(member)).isEqualTo("GONE");
        assertThat(Files.readAllLines(Path.of("/proc/self/mountinfo")).stream().filter(l -> l.contains(member))).isEmpty();
        assertThat(pod.ctr("c", "rm", member).exitCode()).isZero();
    }

    @Test
    void aFailingHookOfASandboxContainerFailsItsCreateAndLeavesNoSandbox() throws Exception {
        String sandbox = pod.containerd.uniqueId("sbx");
        CommandResult failed = run(sandbox, specFile(sandbox, Map.of("io.kubernetes.cri.container-type", "sandbox"),
                Map.of("prestart", List.of(hook("echo no sandbox today; exit 1")))));
        assertThat(failed.exitCode()).isNotZero();
        assertThat(failed.stderr()).contains("prestart hook /bin/sh failed with exit status 1: no sandbox today");
        assertThat(pod.taskStatus(sandbox)).isEqualTo("GONE");
        assertThat(pod.ctr("c", "rm", sandbox).exitCode()).isZero();
        SandboxLeftovers.assertNone(pod.containerd, sandbox);
        assertThat(pod.taskStatus(pod.id)).isEqualTo("RUNNING");
    }
}
