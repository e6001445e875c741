package dev.katashim.shim.task;

import dev.katashim.protocols.containerd.types.Mount;
import dev.katashim.protocols.kata.agent.CgroupStats;
import dev.katashim.protocols.kata.agent.Process;
import dev.katashim.shim.io.AgentStreams;
import dev.katashim.shim.oci.Bundle;
import dev.katashim.shim.sandbox.Sandbox;
import dev.katashim.shim.sandbox.Sandboxes;
import dev.katashim.ttrpc.status.StatusCode;
import dev.katashim.ttrpc.status.TtrpcException;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * FAKE: a sandbox in memory, for the Task service's unit tests. Its processes "run" until a
 * signal ends them (KILL → 137, TERM → 143) or the test ends them with {@link #exit}; it
 * records every call; {@link #refuse} makes the next call of a kind fail as an agent would, and
 * {@link #blockCreate} holds CreateContainer until released. Real sandboxes are tested end to
 * end with QEMU and the host agent.
 */
final class FakeSandbox implements Sandbox, Sandboxes {
    static final int PID = 4242;

    final List<String> calls = new CopyOnWriteArrayList<>();
    final CompletableFuture<Void> ended = new CompletableFuture<>();
    volatile boolean shutDown;
    volatile String openedId;
    private final Map<String, CompletableFuture<Integer>> exits = new ConcurrentHashMap<>();
    private final Map<String, String> refusals = new ConcurrentHashMap<>();
    private final Map<String, StatusCode> refusalCodes = new ConcurrentHashMap<>();
    private volatile CountDownLatch createGate;
    private volatile String lastExec;
    private volatile boolean signalAnswersLostWhenTheSandboxEnds;
    /** How long a lost signal answer waits for the shim to end the sandbox (generous: a loaded machine). */
    private static final long SANDBOX_END_DEADLINE_SECONDS = 30;

    /** The next call named {@code call} ("createContainer", "pauseContainer", ...) fails with {@code message}. */
    void refuse(String call, String message) {
        refusals.put(call, message);
    }

    /** CreateContainer waits for the returned latch. */
    CountDownLatch blockCreate() {
        createGate = new CountDownLatch(1);
        return createGate;
    }

    /**
     * A fake of a race the soak met for real (one kill in 500): KILL or TERM ends the process, the
     * shim ends the sandbox, and only then does SignalProcess fail, its connection closed.
     */
    void loseSignalAnswersWhenTheSandboxEnds() {
        signalAnswersLostWhenTheSandboxEnds = true;
    }

    /** The process ends on its own with {@code status}. */
    void exit(String containerId, String execId, int status) {
        process(containerId, execId).complete(status);
    }

    /** The exec started last in {@code containerId} ends on its own with {@code status} (the agent's exec ids are the shim's choice). */
    void exitLastExec(String containerId, int status) {
        exit(containerId, lastExec, status);
    }

    private CompletableFuture<Integer> process(String containerId, String execId) {
        return exits.computeIfAbsent(containerId + "/" + execId, k -> new CompletableFuture<>());
    }

    /** The next call named {@code call} fails with {@code code} and {@code message}. */
    void refuse(String call, StatusCode code, String message) {
        refusalCodes.put(call, code);
        refusals.put(call, message);
    }

    private void call(String name, String detail) {
        calls.add(name + " " + detail);
        String refusal = refusals.remove(name);
        if (refusal != null) {
            StatusCode code = refusalCodes.remove(name);
            throw new TtrpcException(code == null ? StatusCode.INTERNAL : code, refusal);
        }
        if (ended.isDone()) {
            throw new TtrpcException(StatusCode.UNAVAILABLE, "the sandbox has ended");
        }
    }

    @Override
    public Sandbox open(String sandboxId, Optional<Path> configPath, Bundle bundle) {
        call("open", sandboxId + " " + bundle.config().path("hostname").asText(sandboxId));
        openedId = sandboxId;
        return this;
    }

    @Override
    public void shutdown() {
        shutDown = true;
        destroy();
    }

    @Override
    public String id() {
        return openedId;
    }

    @Override
    public int pid() {
        return PID;
    }

    @Override
    public void createContainer(String containerId, Bundle bundle, List<Mount> rootfs) throws InterruptedException {
        CountDownLatch gate = createGate;
        if (gate != null) {
            gate.await();
        }
        call("createContainer", containerId);
    }

    @Override
    public void startContainer(String containerId) {
        call("startContainer", containerId);
        process(containerId, containerId);
    }

    @Override
    public void execProcess(String containerId, String execId, Process process) {
        call("execProcess", containerId + " " + String.join(" ", process.getArgsList()));
        process(containerId, execId);
        lastExec = execId;
    }

    @Override
    public void signalProcess(String containerId, String execId, int signal) {
        call("signalProcess", containerId + " " + execId + " " + signal);
        if (signal == 9 || signal == 15) {
            process(containerId, execId.isEmpty() ? containerId : execId).complete(128 + signal);
            if (signalAnswersLostWhenTheSandboxEnds) {
                try {
                    ended.get(SANDBOX_END_DEADLINE_SECONDS, TimeUnit.SECONDS);
                } catch (Exception notEnded) {
                    throw new IllegalStateException("the shim did not end the sandbox within " + SANDBOX_END_DEADLINE_SECONDS + " s", notEnded);
                }
                throw new TtrpcException(StatusCode.UNAVAILABLE, "ttrpc: closed");
            }
        }
    }

    @Override
    public int waitProcess(String containerId, String execId) throws Exception {
        return process(containerId, execId).get();
    }

    @Override
    public void resizePty(String containerId, String execId, int rows, int columns) {
        call("resizePty", containerId + " " + rows + "x" + columns);
    }

    @Override
    public void pauseContainer(String containerId) {
        call("pauseContainer", containerId);
    }

    @Override
    public void resumeContainer(String containerId) {
        call("resumeContainer", containerId);
    }

    @Override
    public CgroupStats statsContainer(String containerId) {
        call("statsContainer", containerId);
        return CgroupStats.getDefaultInstance();
    }

    @Override
    public void updateContainer(String containerId, dev.katashim.protocols.kata.agent.LinuxResources resources) {
        call("updateContainer", containerId + " memory " + resources.getMemory().getLimit());
    }

    /** OOMs the test reports with {@link #oom}. */
    private final java.util.concurrent.BlockingQueue<String> ooms = new java.util.concurrent.LinkedBlockingQueue<>();

    void oom(String containerId) {
        ooms.add(containerId);
    }

    @Override
    public String awaitOom() throws InterruptedException {
        while (!ended.isDone()) {
            String containerId = ooms.poll(20, java.util.concurrent.TimeUnit.MILLISECONDS);
            if (containerId != null) {
                return containerId;
            }
        }
        throw new TtrpcException(StatusCode.UNAVAILABLE, "the sandbox has ended");
    }

    @Override
    public void deleteContainer(String containerId) {
        calls.add("deleteContainer " + containerId);
    }

    @Override
    public AgentStreams streams(String containerId, String execId) {
        return new AgentStreams() {
            @Override
            public long writeStdin(byte[] data) {
                return data.length;
            }

            @Override
            public void closeStdin() {
            }

            @Override
            public byte[] readStdout(int maxBytes) {
                return new byte[0];
            }

            @Override
            public byte[] readStderr(int maxBytes) {
                return new byte[0];
            }
        };
    }

    @Override
    public CompletableFuture<Void> ended() {
        return ended;
    }

    /** Like a real sandbox's end: every process's wait fails, as the agent's connection would. */
    @Override
    public void destroy() {
        if (!ended.isDone()) {
            calls.add("destroy");
            exits.values().forEach(f -> f.completeExceptionally(new TtrpcException(StatusCode.UNAVAILABLE, "sandbox gone")));
            ended.complete(null);
        }
    }
}
