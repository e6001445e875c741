package dev.katashim.shim.task;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import com.google.protobuf.MessageLite;
import dev.katashim.protocols.containerd.events.TaskExit;
import dev.katashim.protocols.containerd.task.v2.CheckpointTaskRequest;
import dev.katashim.protocols.containerd.task.v2.ConnectRequest;
import dev.katashim.protocols.containerd.task.v2.ConnectResponse;
import dev.katashim.protocols.containerd.task.v2.CreateTaskRequest;
import dev.katashim.protocols.containerd.task.v2.CreateTaskResponse;
import dev.katashim.protocols.containerd.task.v2.DeleteRequest;
import dev.katashim.protocols.containerd.task.v2.DeleteResponse;
import dev.katashim.protocols.containerd.task.v2.ExecProcessRequest;
import dev.katashim.protocols.containerd.task.v2.KillRequest;
import dev.katashim.protocols.containerd.task.v2.PauseRequest;
import dev.katashim.protocols.containerd.task.v2.PidsRequest;
import dev.katashim.protocols.containerd.task.v2.PidsResponse;
import dev.katashim.protocols.containerd.task.v2.ResizePtyRequest;
import dev.katashim.protocols.containerd.task.v2.ResumeRequest;
import dev.katashim.protocols.containerd.task.v2.ShutdownRequest;
import dev.katashim.protocols.containerd.task.v2.StartRequest;
import dev.katashim.protocols.containerd.task.v2.StartResponse;
import dev.katashim.protocols.containerd.task.v2.StateRequest;
import dev.katashim.protocols.containerd.task.v2.StateResponse;
import dev.katashim.protocols.containerd.task.v2.StatsRequest;
import dev.katashim.protocols.containerd.task.v2.UpdateTaskRequest;
import dev.katashim.protocols.containerd.task.v2.WaitRequest;
import dev.katashim.protocols.containerd.task.v2.WaitResponse;
import dev.katashim.protocols.containerd.types.task.Status;
import dev.katashim.shim.events.TaskEvents;
import dev.katashim.ttrpc.server.CallContext;
import dev.katashim.ttrpc.server.MethodDefinition;
import dev.katashim.ttrpc.server.ServiceDefinition;
import dev.katashim.ttrpc.status.StatusCode;
import dev.katashim.ttrpc.status.TtrpcException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The Task service against {@link FakeSandbox}: every RPC's state transitions, status codes and
 * events, without a VM or an agent (those are the end-to-end tests').
 */
class TaskServiceTest {
    /** Generous: the watcher threads only need to be scheduled, but the machine may be busy. */
    private static final Duration UNDER_LOAD_DEADLINE = Duration.ofSeconds(30);
    private static final String POD = "pod1";

    @TempDir
    Path dir;
    private final FakeSandbox sandbox = new FakeSandbox();
    private final List<Message> events = new CopyOnWriteArrayList<>();
    private final List<String> topics = new CopyOnWriteArrayList<>();
    private final AtomicBoolean shimExited = new AtomicBoolean();
    private ServiceDefinition service;

    @BeforeEach
    void serve() {
        TaskService tasks = new TaskService(sandbox, "kt-unit", new TaskEvents((topic, event) -> {
            topics.add(topic);
            events.add(event);
        }), () -> shimExited.set(true));
        service = tasks.definition();
    }

    @AfterEach
    void endProcesses() {
        sandbox.destroy();
    }

    @Test
    void aContainerLivesCreatedRunningStoppedDeleted() throws Exception {
        CreateTaskResponse created = create(POD, Map.of());
        assertThat(created.getPid()).isEqualTo(FakeSandbox.PID);
        assertThat(state(POD).getStatus()).isEqualTo(Status.CREATED);
        StartResponse started = call("Start", StartRequest.newBuilder().setId(POD).build());
        assertThat(started.getPid()).isEqualTo(FakeSandbox.PID);
        assertThat(state(POD).getStatus()).isEqualTo(Status.RUNNING);

        CompletableFuture<WaitResponse> waiting = CompletableFuture.supplyAsync(() -> callUnchecked("Wait", WaitRequest.newBuilder().setId(POD).build()));
        call("Kill", KillRequest.newBuilder().setId(POD).setSignal(9).build());
        assertThat(waiting.get(UNDER_LOAD_DEADLINE.toSeconds(), TimeUnit.SECONDS).getExitStatus()).isEqualTo(137);
        StateResponse stopped = state(POD);
        assertThat(stopped.getStatus()).isEqualTo(Status.STOPPED);
        assertThat(stopped.getExitStatus()).isEqualTo(137);

        DeleteResponse deleted = call("Delete", DeleteRequest.newBuilder().setId(POD).build());
        assertThat(deleted.getExitStatus()).isEqualTo(137);
        assertThat(deleted.getPid()).isEqualTo(FakeSandbox.PID);
        assertThat(topics).containsExactly("/tasks/create", "/tasks/start", "/tasks/exit", "/tasks/delete");
        assertThat(sandbox.calls).contains("open pod1 pod1", "createContainer pod1", "startContainer pod1",
                "signalProcess pod1  9", "deleteContainer pod1", "destroy");
        assertStatus(() -> state(POD), StatusCode.NOT_FOUND, "container does not exist pod1");
    }

    /** Found by TaskServerProperties: a NUL in the bundle path was UNKNOWN "Nul character not allowed". */
    @Test
    void aBundlePathJavaCannotUseOrARelativeOneIsRefusedNamingTheBundle() {
        assertStatus(() -> call("Create", CreateTaskRequest.newBuilder().setId(POD).setBundle("/run/a\0b").build()),
                StatusCode.INVALID_ARGUMENT, "invalid bundle path '/run/a\\x00b'");
        assertStatus(() -> call("Create", CreateTaskRequest.newBuilder().setId(POD).setBundle("").build()),
                StatusCode.INVALID_ARGUMENT, "invalid bundle path '': must be absolute");
        assertStatus(() -> call("Create", CreateTaskRequest.newBuilder().setId(POD).setBundle("bundles/pod1").build()),
                StatusCode.INVALID_ARGUMENT, "invalid bundle path 'bundles/pod1': must be absolute");
        assertThat(sandbox.calls).isEmpty();
    }

    @Test
    void theSandboxsOwnContainerEndingEndsTheSandboxAndEveryProcessInIt() throws Exception {
        startPodWithMember();
        sandbox.exit(POD, POD, 0);
        WaitResponse member = call("Wait", WaitRequest.newBuilder().setId("app").build());
        assertThat(member.getExitStatus()).isEqualTo(255);
        await().atMost(UNDER_LOAD_DEADLINE).until(() -> sandbox.ended().isDone()); // the member may learn first
        assertThat(exitStatuses()).containsEntry(POD, 0).containsEntry("app", 255);
    }

    @Test
    void aDeadHypervisorStopsEveryProcessWith255() throws Exception {
        startPodWithMember();
        sandbox.destroy(); // what the real sandbox does when its VMM exits on its own
        assertThat(((WaitResponse) call("Wait", WaitRequest.newBuilder().setId(POD).build())).getExitStatus()).isEqualTo(255);
        assertThat(((WaitResponse) call("Wait", WaitRequest.newBuilder().setId("app").build())).getExitStatus()).isEqualTo(255);
        assertThat(exitStatuses()).containsEntry(POD, 255).containsEntry("app", 255);
        assertStatus(() -> call("Kill", KillRequest.newBuilder().setId("app").setSignal(1).build()), StatusCode.NOT_FOUND, "already exited");
    }

    @Test
    void execsAreAddedStartedWaitedAndDeleted() throws Exception {
        create(POD, Map.of());
        call("Start", StartRequest.newBuilder().setId(POD).build());
        call("Exec", exec("e1"));
        assertStatus(() -> call("Exec", exec("e1")), StatusCode.ALREADY_EXISTS, "id e1: already exists");
        assertThat(state(POD, "e1").getStatus()).isEqualTo(Status.CREATED);
        assertStatus(() -> call("Kill", KillRequest.newBuilder().setId(POD).setExecId("e1").setSignal(9).build()),
                StatusCode.NOT_FOUND, "exec e1 has not started");
        call("Start", StartRequest.newBuilder().setId(POD).setExecId("e1").build());
        assertThat(sandbox.calls).anyMatch(c -> c.equals("execProcess pod1 /bin/true"));
        assertStatus(() -> call("Delete", DeleteRequest.newBuilder().setId(POD).setExecId("e1").build()),
                StatusCode.FAILED_PRECONDITION, "exec e1 is still running");
        call("Kill", KillRequest.newBuilder().setId(POD).setExecId("e1").setSignal(15).build());
        WaitResponse waited = call("Wait", WaitRequest.newBuilder().setId(POD).setExecId("e1").build());
        assertThat(waited.getExitStatus()).isEqualTo(143);
        DeleteResponse deleted = call("Delete", DeleteRequest.newBuilder().setId(POD).setExecId("e1").build());
        assertThat(deleted.getExitStatus()).isEqualTo(143);
        assertThat(topics).containsSubsequence("/tasks/exec-added", "/tasks/exec-started", "/tasks/exit");
        assertThat(exitStatuses()).containsEntry("e1", 143).doesNotContainKey(POD);
        assertStatus(() -> state(POD, "e1"), StatusCode.NOT_FOUND, "exec does not exist e1");
        assertThat(state(POD).getStatus()).isEqualTo(Status.RUNNING);
    }

    @Test
    void badRequestsGetClearStatusesAndChangeNothing() throws Exception {
        assertStatus(() -> create("../escape", Map.of()), StatusCode.INVALID_ARGUMENT, "invalid container id '../escape'");
        assertStatus(() -> create("member", Map.of("io.kubernetes.cri.container-type", "container", "io.kubernetes.cri.sandbox-id", POD)),
                StatusCode.FAILED_PRECONDITION, "the sandbox hasn't been created");
        create(POD, Map.of());
        assertStatus(() -> create(POD, Map.of()), StatusCode.ALREADY_EXISTS, "container pod1: already exists");
        assertStatus(() -> create("other", Map.of()), StatusCode.ALREADY_EXISTS, "cannot create another sandbox in sandbox: pod1");
        assertStatus(() -> call("Exec", exec("e1")), StatusCode.FAILED_PRECONDITION, "container pod1 is CREATED: cannot exec into it");
        assertStatus(() -> call("Stats", StatsRequest.newBuilder().setId("nope").build()), StatusCode.NOT_FOUND, "nope");
        call("Start", StartRequest.newBuilder().setId(POD).build());
        assertStatus(() -> call("Start", StartRequest.newBuilder().setId(POD).build()), StatusCode.FAILED_PRECONDITION, "cannot be started again");
        assertStatus(() -> call("Delete", DeleteRequest.newBuilder().setId(POD).build()), StatusCode.FAILED_PRECONDITION, "kill it before deleting it");
        assertStatus(() -> call("Exec", ExecProcessRequest.newBuilder().setId(POD).setExecId("e2").build()), StatusCode.INVALID_ARGUMENT, "has no process spec");
        assertStatus(() -> call("Update", UpdateTaskRequest.newBuilder().setId(POD).build()), StatusCode.INVALID_ARGUMENT, "carries no resources");
        assertStatus(() -> update("{\"memory\":{\"limit\":-5}}"), StatusCode.INVALID_ARGUMENT, "memory.limit = -5 is out of range");
        assertStatus(() -> update("{\"cpu\":{\"period\":0,\"quota\":50}}"), StatusCode.INVALID_ARGUMENT, "cpu.quota = 50 is out of range");
        assertStatus(() -> update("{\"cpu\":{\"shares\":1}}"), StatusCode.INVALID_ARGUMENT, "cpu.shares = 1");
        assertStatus(() -> update("{\"pids\":{\"limit\":-7}}"), StatusCode.INVALID_ARGUMENT, "pids.limit = -7");
        assertStatus(() -> update("[1,2]"), StatusCode.INVALID_ARGUMENT, "not an object");
        assertThat(sandbox.calls).noneMatch(c -> c.startsWith("updateContainer"));
        assertStatus(() -> call("Checkpoint", CheckpointTaskRequest.newBuilder().setId(POD).build()), StatusCode.UNIMPLEMENTED, "Checkpoint");
        assertThat(state(POD).getStatus()).isEqualTo(Status.RUNNING);
        assertThat(topics).containsExactly("/tasks/create", "/tasks/start");
    }

    @Test
    void idsAndPathsFromContainerdAreCheckedBeforeAnythingIsMade() throws Exception {
        Path bundle = Files.createDirectories(dir.resolve("okbundle"));
        Files.writeString(bundle.resolve("config.json"), "{\"process\":{\"args\":[\"/bin/true\"]},\"root\":{\"path\":\"rootfs\"}}");
        assertStatus(() -> call("Create", CreateTaskRequest.newBuilder().setId("a".repeat(1000)).setBundle(bundle.toString()).build()),
                StatusCode.INVALID_ARGUMENT, "invalid container id 'aaaa");
        assertStatus(() -> call("Create", CreateTaskRequest.newBuilder().setId("dots").setBundle(dir + "/x/../okbundle").build()),
                StatusCode.INVALID_ARGUMENT, "invalid bundle path '" + dir + "/x/../okbundle'");
        assertStatus(() -> create("member", Map.of("io.kubernetes.cri.container-type", "container", "io.kubernetes.cri.sandbox-id", "../../etc")),
                StatusCode.INVALID_ARGUMENT, "invalid sandbox id (in the annotations) '../../etc'");
        Files.createSymbolicLink(Files.createDirectories(dir.resolve("linked")).resolve("rootfs"), Files.createDirectories(dir.resolve("host-dir")));
        Files.writeString(dir.resolve("linked/config.json"), "{\"process\":{\"args\":[\"/bin/true\"]},\"root\":{\"path\":\"rootfs\"}}");
        assertStatus(() -> call("Create", CreateTaskRequest.newBuilder().setId("linked").setBundle(dir.resolve("linked").toString()).build()),
                StatusCode.INVALID_ARGUMENT, "outside the bundle");
        assertThat(sandbox.calls).as("no sandbox opened, nothing created").isEmpty();
        create(POD, Map.of());
        call("Start", StartRequest.newBuilder().setId(POD).build());
        assertStatus(() -> call("Exec", exec("../x")), StatusCode.INVALID_ARGUMENT, "invalid exec id '../x'");
        assertStatus(() -> call("Exec", exec("e".repeat(77))), StatusCode.INVALID_ARGUMENT, "77 characters, more than the 76");
        assertThat(sandbox.calls).noneMatch(c -> c.startsWith("exec"));
        assertThat(state(POD).getStatus()).isEqualTo(Status.RUNNING);
    }

    @Test
    void aFailedCreateLeavesNothingAndTheSandboxIsStopped() throws Exception {
        sandbox.refuse("createContainer", "runc: no such file /bin/nope");
        assertStatus(() -> create(POD, Map.of()), StatusCode.INTERNAL, "runc: no such file /bin/nope");
        assertThat(sandbox.ended()).isDone();
        assertStatus(() -> state(POD), StatusCode.NOT_FOUND, "pod1");
        assertThat(topics).isEmpty();
    }

    @Test
    void aFailedStartStopsTheProcessWithoutAnExitEvent() throws Exception {
        create(POD, Map.of());
        sandbox.refuse("startContainer", "exec: /bin/nope: not found");
        assertStatus(() -> call("Start", StartRequest.newBuilder().setId(POD).build()), StatusCode.INTERNAL, "/bin/nope");
        StateResponse state = state(POD);
        assertThat(state.getStatus()).isEqualTo(Status.STOPPED);
        assertThat(state.getExitStatus()).isEqualTo(255);
        assertThat(topics).containsExactly("/tasks/create");
        DeleteResponse deleted = call("Delete", DeleteRequest.newBuilder().setId(POD).build());
        assertThat(deleted.getExitStatus()).isEqualTo(255);
    }

    @Test
    void pauseAndResume() throws Exception {
        create(POD, Map.of());
        call("Start", StartRequest.newBuilder().setId(POD).build());
        call("Pause", PauseRequest.newBuilder().setId(POD).build());
        assertThat(state(POD).getStatus()).isEqualTo(Status.PAUSED);
        call("Resume", ResumeRequest.newBuilder().setId(POD).build());
        assertThat(state(POD).getStatus()).isEqualTo(Status.RUNNING);
        sandbox.refuse("pauseContainer", "freezer: device busy");
        assertStatus(() -> call("Pause", PauseRequest.newBuilder().setId(POD).build()), StatusCode.INTERNAL, "freezer");
        assertThat(state(POD).getStatus()).isEqualTo(Status.RUNNING);
        assertThat(topics).containsExactly("/tasks/create", "/tasks/start", "/tasks/paused", "/tasks/resumed");
    }

    @Test
    void killingAStoppedProcessAgainIsFineForKillAndTermOnly() throws Exception {
        create(POD, Map.of());
        call("Start", StartRequest.newBuilder().setId(POD).build());
        sandbox.exit(POD, POD, 3);
        assertThat(((WaitResponse) call("Wait", WaitRequest.newBuilder().setId(POD).build())).getExitStatus()).isEqualTo(3);
        call("Kill", KillRequest.newBuilder().setId(POD).setSignal(9).build());
        call("Kill", KillRequest.newBuilder().setId(POD).setSignal(15).build());
        assertStatus(() -> call("Kill", KillRequest.newBuilder().setId(POD).setSignal(1).build()), StatusCode.NOT_FOUND, "process pod1 already exited");
    }

    @Test
    void aKillWhoseAnswerIsLostBecauseTheSandboxEndedSucceeds() throws Exception {
        create(POD, Map.of());
        call("Start", StartRequest.newBuilder().setId(POD).build());
        sandbox.loseSignalAnswersWhenTheSandboxEnds();
        call("Kill", KillRequest.newBuilder().setId(POD).setSignal(9).build());
        assertThat(((WaitResponse) call("Wait", WaitRequest.newBuilder().setId(POD).build())).getExitStatus()).isEqualTo(137);
        assertThat(sandbox.calls).contains("destroy");
    }

    @Test
    void stateAndWaitAnswerWhileACreateIsStillBooting() throws Exception {
        create(POD, Map.of());
        call("Start", StartRequest.newBuilder().setId(POD).build());
        call("Exec", exec("e1").toBuilder().setTerminal(true).build());
        call("Start", StartRequest.newBuilder().setId(POD).setExecId("e1").build());
        CountDownLatch gate = sandbox.blockCreate();
        CompletableFuture<Object> slowCreate = CompletableFuture.supplyAsync(() -> {
            try {
                return create("app", Map.of("io.kubernetes.cri.container-type", "container", "io.kubernetes.cri.sandbox-id", POD));
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        await().atMost(UNDER_LOAD_DEADLINE).until(() -> !slowCreate.isDone() && gate.getCount() == 1);
        assertThat(state(POD).getStatus()).isEqualTo(Status.RUNNING);
        assertThat(((PidsResponse) call("Pids", PidsRequest.newBuilder().setId(POD).build())).getProcesses(0).getPid()).isEqualTo(FakeSandbox.PID);
        assertThat(((ConnectResponse) call("Connect", ConnectRequest.newBuilder().setId(POD).build())).getTaskPid()).isEqualTo(FakeSandbox.PID);
        call("ResizePty", ResizePtyRequest.newBuilder().setId(POD).setExecId("e1").setWidth(80).setHeight(24).build());
        sandbox.exitLastExec(POD, 7);
        assertThat(((WaitResponse) call("Wait", WaitRequest.newBuilder().setId(POD).setExecId("e1").build())).getExitStatus()).isEqualTo(7);
        assertThat(slowCreate).isNotDone();
        gate.countDown();
        slowCreate.get(UNDER_LOAD_DEADLINE.toSeconds(), TimeUnit.SECONDS);
    }

    @Test
    void resizePtyNeedsATerminalAndARunningProcess() throws Exception {
        create(POD, Map.of());
        call("Start", StartRequest.newBuilder().setId(POD).build());
        assertStatus(() -> call("ResizePty", ResizePtyRequest.newBuilder().setId(POD).setWidth(80).setHeight(24).build()),
                StatusCode.FAILED_PRECONDITION, "container pod1 has no terminal");
        call("Exec", exec("tty").toBuilder().setTerminal(true).build());
        assertStatus(() -> call("ResizePty", ResizePtyRequest.newBuilder().setId(POD).setExecId("tty").setWidth(80).setHeight(24).build()),
                StatusCode.FAILED_PRECONDITION, "exec tty of container pod1 is CREATED");
        call("Start", StartRequest.newBuilder().setId(POD).setExecId("tty").build());
        call("ResizePty", ResizePtyRequest.newBuilder().setId(POD).setExecId("tty").setWidth(132).setHeight(43).build());
        assertThat(sandbox.calls).contains("resizePty pod1 43x132");
        assertThat(sandbox.calls).filteredOn(c -> c.startsWith("resizePty")).hasSize(1);
    }

    @Test
    void shutdownExitsOnlyOnceNoContainerIsLeft() throws Exception {
        create(POD, Map.of());
        call("Shutdown", ShutdownRequest.newBuilder().setId(POD).build());
        assertThat(shimExited).isFalse();
        assertThat(sandbox.shutDown).isFalse();
        call("Delete", DeleteRequest.newBuilder().setId(POD).build());
        call("Shutdown", ShutdownRequest.newBuilder().setId(POD).build());
        assertThat(shimExited).isTrue();
        assertThat(sandbox.shutDown).isTrue();
    }

    @Test
    void statsOfAStoppedContainerAreRefused() throws Exception {
        create(POD, Map.of());
        call("Start", StartRequest.newBuilder().setId(POD).build());
        call("Stats", StatsRequest.newBuilder().setId(POD).build());
        call("Kill", KillRequest.newBuilder().setId(POD).setSignal(9).build());
        call("Wait", WaitRequest.newBuilder().setId(POD).build());
        assertStatus(() -> call("Stats", StatsRequest.newBuilder().setId(POD).build()), StatusCode.FAILED_PRECONDITION, "not running: no stats");
    }

    @Test
    void updateReachesTheSandboxWithCpusetCleared() throws Exception {
        create(POD, Map.of());
        call("Start", StartRequest.newBuilder().setId(POD).build());
        update("{\"memory\":{\"limit\":134217728},\"cpu\":{\"cpus\":\"0-3\",\"quota\":50000,\"period\":100000}}");
        assertThat(sandbox.calls).contains("updateContainer pod1 memory 134217728");
        call("Kill", KillRequest.newBuilder().setId(POD).setSignal(9).build());
        call("Wait", WaitRequest.newBuilder().setId(POD).build());
        assertStatus(() -> update("{\"memory\":{\"limit\":134217728}}"), StatusCode.FAILED_PRECONDITION, "impossible to update");
    }

    @Test
    void anOomInTheSandboxIsPublishedAndOnesOfUnknownContainersAreNot() throws Exception {
        create(POD, Map.of());
        call("Start", StartRequest.newBuilder().setId(POD).build());
        sandbox.oom("ghost"); // FAKE agent answers: containers this shim does not have
        sandbox.oom("x".repeat(10_000));
        sandbox.oom(POD);
        await().atMost(UNDER_LOAD_DEADLINE).until(() -> topics.contains("/tasks/oom"));
        assertThat(events).filteredOn(dev.katashim.protocols.containerd.events.TaskOOM.class::isInstance)
                .extracting(e -> ((dev.katashim.protocols.containerd.events.TaskOOM) e).getContainerId()).containsExactly(POD);
    }

    @Test
    void killWithAllSignalsTheInitAndEveryRunningExec() throws Exception {
        startPodWithMember(); // a member: its end does not end the sandbox (which would stop everything with 255)
        call("Exec", exec("app", "e1"));
        call("Start", StartRequest.newBuilder().setId("app").setExecId("e1").build());
        call("Exec", exec("app", "e2")); // never started: not signalled
        call("Kill", KillRequest.newBuilder().setId("app").setSignal(9).setAll(true).build());
        assertThat(((WaitResponse) call("Wait", WaitRequest.newBuilder().setId("app").setExecId("e1").build())).getExitStatus()).isEqualTo(137);
        assertThat(((WaitResponse) call("Wait", WaitRequest.newBuilder().setId("app").build())).getExitStatus()).isEqualTo(137);
        assertThat(sandbox.calls).filteredOn(c -> c.startsWith("signalProcess app")).hasSize(2);
        assertThat(state(POD).getStatus()).isEqualTo(Status.RUNNING);
    }

    // ---- helpers ----------------------------------------------------------------------------

    private Object update(String resourcesJson) throws Exception {
        return call("Update", UpdateTaskRequest.newBuilder().setId(POD).setResources(Any.newBuilder()
                .setTypeUrl("types.containerd.io/opencontainers/runtime-spec/1/LinuxResources")
                .setValue(ByteString.copyFromUtf8(resourcesJson))).build());
    }

    private void startPodWithMember() throws Exception {
        create(POD, Map.of("io.kubernetes.cri.container-type", "sandbox"));
        call("Start", StartRequest.newBuilder().setId(POD).build());
        create("app", Map.of("io.kubernetes.cri.container-type", "container", "io.kubernetes.cri.sandbox-id", POD));
        call("Start", StartRequest.newBuilder().setId("app").build());
    }

    private Map<String, Integer> exitStatuses() {
        return events.stream().filter(TaskExit.class::isInstance).map(TaskExit.class::cast)
                .collect(java.util.stream.Collectors.toMap(TaskExit::getId, TaskExit::getExitStatus));
    }

    private CreateTaskResponse create(String id, Map<String, String> annotations) throws Exception {
        Path bundle = Files.createDirectories(dir.resolve(id.replace("/", "_")));
        StringBuilder json = new StringBuilder("{\"process\":{\"args\":[\"/bin/sleep\",\"60\"]},\"root\":{\"path\":\"rootfs\"},\"annotations\":{");
        annotations.forEach((k, v) -> json.append('"').append(k).append("\":\"").append(v).append("\","));
        if (!annotations.isEmpty()) {
            json.setLength(json.length() - 1);
        }
        Files.writeString(bundle.resolve("config.json"), json.append("}}").toString());
        return call("Create", CreateTaskRequest.newBuilder().setId(id).setBundle(bundle.toString()).build());
    }

    private static ExecProcessRequest exec(String execId) {
        return exec(POD, execId);
    }

    private static ExecProcessRequest exec(String containerId, String execId) {
        return ExecProcessRequest.newBuilder().setId(containerId).setExecId(execId)
                .setSpec(Any.newBuilder().setTypeUrl("types.containerd.io/opencontainers/runtime-spec/1/Process")
                        .setValue(ByteString.copyFromUtf8("{\"args\":[\"/bin/true\"],\"cwd\":\"/\"}")))
                .build();
    }

    private StateResponse state(String id) throws Exception {
        return state(id, "");
    }

    private StateResponse state(String id, String execId) throws Exception {
        return call("State", StateRequest.newBuilder().setId(id).setExecId(execId).build());
    }

    @SuppressWarnings("unchecked")
    private <T> T call(String method, MessageLite request) throws Exception {
        MethodDefinition<MessageLite, MessageLite> definition = (MethodDefinition<MessageLite, MessageLite>) service.methods().get(method);
        return (T) definition.handler().handle(request, new CallContext(TaskService.NAME, method, Map.of(), 0));
    }

    private <T> T callUnchecked(String method, MessageLite request) {
        try {
            return call(method, request);
        } catch (Exception e) {
            throw new RuntimeException(e);
        }
    }

    private interface Rpc {
        Object run() throws Exception;
    }

    private static void assertStatus(Rpc rpc, StatusCode code, String message) {
        assertThatThrownBy(rpc::run).isInstanceOfSatisfying(TtrpcException.class, e -> {
            assertThat(e.code()).isEqualTo(code);
            assertThat(e.getMessage()).contains(message);
        });
    }
}
