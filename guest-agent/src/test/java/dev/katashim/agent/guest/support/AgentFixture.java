package dev.katashim.agent.guest.support;

import com.google.protobuf.ByteString;
import com.google.protobuf.Empty;
import com.google.protobuf.MessageLite;
import com.google.protobuf.Parser;
import dev.katashim.agent.guest.AgentOptions;
import dev.katashim.agent.guest.AgentServiceDefinition;
import dev.katashim.agent.guest.GuestAgent;
import dev.katashim.protocols.kata.agent.CreateContainerRequest;
import dev.katashim.sys.Mount;
import dev.katashim.sys.MountTable;
import dev.katashim.protocols.kata.agent.ExecProcessRequest;
import dev.katashim.protocols.kata.agent.Process;
import dev.katashim.protocols.kata.agent.ReadStreamRequest;
import dev.katashim.protocols.kata.agent.ReadStreamResponse;
import dev.katashim.protocols.kata.agent.Spec;
import dev.katashim.protocols.kata.agent.StartContainerRequest;
import dev.katashim.protocols.kata.agent.WaitProcessRequest;
import dev.katashim.protocols.kata.agent.WaitProcessResponse;
import dev.katashim.protocols.kata.agent.WriteStreamRequest;
import dev.katashim.protocols.kata.agent.WriteStreamResponse;
import dev.katashim.protocols.kata.agent.CheckRequest;
import dev.katashim.protocols.kata.agent.HealthCheckResponse;
import dev.katashim.ttrpc.client.CallOptions;
import dev.katashim.ttrpc.client.TtrpcClient;
import dev.katashim.ttrpc.status.TtrpcException;
import dev.katashim.ttrpc.transport.Endpoint;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * A host-mode agent for one test class: its own short temp dir (rootfs, state, socket), its own
 * cgroup parent and runc root, and a client. {@link #cleanUp()} destroys every container and
 * checks that nothing leaked; {@link #close()} also stops the agent and deletes the temp dir.
 */
public final class AgentFixture implements AutoCloseable {
    public static final String SERVICE = AgentServiceDefinition.SERVICE;
    private static final CallOptions CALL = CallOptions.timeout(Duration.ofSeconds(30));

    public final Path dir;
    public final Path rootfs;
    public final Path stateDir;
    public final Path socket;
    public final String cgroupParent;
    public final GuestAgent agent;
    public final TtrpcClient client;

    private AgentFixture(Path dir, Path rootfs, GuestAgent agent, TtrpcClient client, String cgroupParent) {
        this.dir = dir;
        this.rootfs = rootfs;
        this.stateDir = agent.options().stateDir();
        this.socket = dir.resolve("agent.sock");
        this.agent = agent;
        this.client = client;
        this.cgroupParent = cgroupParent;
    }

    public static AgentFixture start() throws Exception {
        Path dir = Files.createTempDirectory(Path.of("/tmp"), "kga");
        try {
            Path rootfs = TestRootfs.create(dir.resolve("rootfs"));
            String cgroupParent = "/kata-agent-test-" + UUID.randomUUID().toString().substring(0, 8);
            AgentOptions options = new AgentOptions(List.of(new Endpoint.UnixPath(dir.resolve("agent.sock"))),
                    dir.resolve("state"), true, AgentOptions.findRunc(), cgroupParent, dir.resolve("shared"));
            GuestAgent agent = GuestAgent.start(options);
            TtrpcClient client;
            try {
                client = TtrpcClient.connect(new Endpoint.UnixPath(dir.resolve("agent.sock")));
            } catch (IOException | RuntimeException e) {
                agent.close();
                throw e;
            }
            return new AgentFixture(dir, rootfs, agent, client, cgroupParent);
        } catch (Exception e) {
            deleteTree(dir);
            throw e;
        }
    }

    public TtrpcClient connect() throws IOException {
        return TtrpcClient.connect(new Endpoint.UnixPath(socket));
    }

    public <T extends MessageLite> T call(String method, MessageLite request, Parser<T> parser) throws InterruptedException {
        return client.blockingCall(SERVICE, method, request, parser, CALL);
    }

    public void call(String method, MessageLite request) throws InterruptedException {
        call(method, request, Empty.parser());
    }

    /** The failure of a call that must fail. */
    public TtrpcException failure(String method, MessageLite request) {
        TtrpcException e = catchThrowableOfType(TtrpcException.class,
                () -> client.blockingCall(SERVICE, method, request, Empty.parser(), CALL));
        assertThat(e).as("%s must fail", method).isNotNull();
        return e;
    }

    /** The agent still answers: health check and a guest call. */
    public void assertServing() throws InterruptedException {
        HealthCheckResponse health = client.blockingCall("grpc.Health", "Check", CheckRequest.getDefaultInstance(),
                HealthCheckResponse.parser(), CALL);
        assertThat(health.getStatus()).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
    }

    public void create(String id, Spec spec) throws InterruptedException {
        call("CreateContainer", CreateContainerRequest.newBuilder().setContainerId(id).setExecId(id).setOCI(spec).build());
    }

    public void createAndStart(String id, Spec spec) throws InterruptedException {
        create(id, spec);
        call("StartContainer", StartContainerRequest.newBuilder().setContainerId(id).build());
    }

    public void exec(String id, String execId, Process process) throws InterruptedException {
        call("ExecProcess", ExecProcessRequest.newBuilder().setContainerId(id).setExecId(execId).setProcess(process).build());
    }

    public int await(String id, String execId) throws InterruptedException {
        return call("WaitProcess", WaitProcessRequest.newBuilder().setContainerId(id).setExecId(execId).build(),
                WaitProcessResponse.parser()).getStatus();
    }

    public int write(String id, String execId, byte[] data) throws InterruptedException {
        return call("WriteStdin", WriteStreamRequest.newBuilder().setContainerId(id).setExecId(execId)
                .setData(ByteString.copyFrom(data)).build(), WriteStreamResponse.parser()).getLen();
    }

    public byte[] readChunk(String method, String id, String execId, int len) throws InterruptedException {
        return call(method, ReadStreamRequest.newBuilder().setContainerId(id).setExecId(execId).setLen(len).build(),
                ReadStreamResponse.parser()).getData().toByteArray();
    }

    /** Reads a stream to its end (an empty reply), as the shim's copy loop does. */
    public String readAll(String method, String id, String execId) throws InterruptedException {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        byte[] chunk;
        while ((chunk = readChunk(method, id, execId, 32 * 1024)).length > 0) {
            all.writeBytes(chunk);
        }
        return all.toString(StandardCharsets.UTF_8);
    }

    // ---- leaks ----

    /** Destroys every container, then checks runc, cgroups, processes and bundles are all gone. */
    public void cleanUp() throws Exception {
        agent.service().destroyEverything();
        assertNoLeftovers();
    }

    public void assertNoLeftovers() throws IOException, InterruptedException {
        assertThat(mountsUnder(dir)).as("mounts left under %s", dir).isEmpty();
        assertThat(runcContainers()).as("containers left in runc's root").isEmpty();
        assertThat(cgroupDirs()).as("cgroups left under %s", cgroupParent).isEmpty();
        assertThat(processesMentioning(stateDir.toString())).as("runc processes left").isEmpty();
        try (Stream<Path> bundles = Files.list(stateDir.resolve("bundles"))) {
            assertThat(bundles.toList()).as("bundles left").isEmpty();
        }
    }

    /** After RemoveContainer: runc, its cgroup (in every hierarchy) and its bundle are gone. */
    public void assertContainerGone(String id) throws IOException, InterruptedException {
        assertThat(runcContainers()).doesNotContain(id);
        assertThat(cgroupDirs()).allSatisfy(parent -> assertThat(parent.resolve(id)).doesNotExist());
        assertThat(stateDir.resolve("bundles").resolve(id)).doesNotExist();
    }

    /**
     * Where a guest path is for this host-mode agent: {@code /run/kata-containers/shared/containers}
     * is its shared directory, the rest of {@code /run/kata-containers} is under its state dir.
     */
    public Path guestPath(String guestPath) {
        String shared = "/run/kata-containers/shared/containers/";
        String kata = "/run/kata-containers/";
        if (guestPath.startsWith(shared)) {
            return dir.resolve("shared").resolve(guestPath.substring(shared.length()));
        }
        assertThat(guestPath).startsWith(kata);
        return stateDir.resolve("kata-containers").resolve(guestPath.substring(kata.length()));
    }

    /** Mount points at or below {@code root}, from /proc/self/mountinfo. */
    public static List<Path> mountsUnder(Path root) throws IOException {
        return mountInfo().stream().map(MountInfo::mountPoint).filter(p -> p.startsWith(root)).toList();
    }

    /** One line of /proc/self/mountinfo: where, what, and its per-mount and file-system options. */
    public record MountInfo(Path mountPoint, String fstype, List<String> mountOptions, List<String> superOptions) {
    }

    public static List<MountInfo> mountInfo() throws IOException {
        List<MountInfo> mounts = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
            String[] fields = line.split(" ");
            String[] after = line.substring(line.indexOf(" - ") + 3).split(" ");
            mounts.add(new MountInfo(Path.of(fields[4]), after[0], List.of(fields[5].split(",")),
                    after.length > 2 ? List.of(after[2].split(",")) : List.of()));
        }
        return mounts;
    }

    public static java.util.Optional<MountInfo> mountAt(Path mountPoint) throws IOException {
        return mountInfo().stream().filter(m -> m.mountPoint().equals(mountPoint)).reduce((first, last) -> last);
    }

    public List<String> runcContainers() throws IOException, InterruptedException {
        java.lang.Process p = new ProcessBuilder(AgentOptions.findRunc().toString(), "--root", stateDir.resolve("runc").toString(),
                "list", "-q").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as("runc list: %s", out).isZero();
        return out.lines().filter(l -> !l.isBlank()).toList();
    }

    public List<Path> cgroupDirs() throws IOException {
        List<Path> found = new ArrayList<>();
        for (Mount hierarchy : MountTable.ofThisProcess().ofType(Set.of("cgroup", "cgroup2"))) {
            Path dir = hierarchy.mountPoint().resolve(cgroupParent.substring(1));
            if (Files.exists(dir)) {
                found.add(dir);
            }
        }
        return found;
    }

    /** Pids of processes whose command line contains {@code text}. */
    public static List<Long> processesMentioning(String text) throws IOException {
        List<Long> pids = new ArrayList<>();
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            for (Path proc : procs.filter(p -> p.getFileName().toString().chars().allMatch(Character::isDigit)).toList()) {
                try {
                    String cmdline = new String(Files.readAllBytes(proc.resolve("cmdline")), StandardCharsets.UTF_8).replace('\0', ' ');
                    if (cmdline.contains(text)) {
                        pids.add(Long.parseLong(proc.getFileName().toString()));
                    }
                } catch (IOException e) {
                    // gone meanwhile
                }
            }
        }
        return pids;
    }

    @Override
    public void close() throws Exception {
        try {
            client.close();
            agent.close();
            assertNoLeftovers();
        } finally {
            deleteTree(dir);
        }
    }

    public static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
