import com.google.protobuf.ByteString;
import com.google.protobuf.Empty;
import com.google.protobuf.MessageLite;
import com.google.protobuf.Parser;
import dev.katashim.protocols.kata.agent.CheckRequest;
import dev.katashim.protocols.kata.agent.CreateContainerRequest;
import dev.katashim.protocols.kata.agent.CreateSandboxRequest;
import dev.katashim.protocols.kata.agent.DestroySandboxRequest;
import dev.katashim.protocols.kata.agent.GetMetricsRequest;
import dev.katashim.protocols.kata.agent.GuestDetailsRequest;
import dev.katashim.protocols.kata.agent.GuestDetailsResponse;
import dev.katashim.protocols.kata.agent.HealthCheckResponse;
import dev.katashim.protocols.kata.agent.Linux;
import dev.katashim.protocols.kata.agent.LinuxCapabilities;
import dev.katashim.protocols.kata.agent.LinuxNamespace;
import dev.katashim.protocols.kata.agent.LinuxResources;
import dev.katashim.protocols.kata.agent.Metrics;
import dev.katashim.protocols.kata.agent.Mount;
import dev.katashim.protocols.kata.agent.Process;
import dev.katashim.protocols.kata.agent.ReadStreamRequest;
import dev.katashim.protocols.kata.agent.ReadStreamResponse;
import dev.katashim.protocols.kata.agent.RemoveContainerRequest;
import dev.katashim.protocols.kata.agent.Root;
import dev.katashim.protocols.kata.agent.Spec;
import dev.katashim.protocols.kata.agent.StartContainerRequest;
import dev.katashim.protocols.kata.agent.User;
import dev.katashim.protocols.kata.agent.VersionCheckResponse;
import dev.katashim.protocols.kata.agent.WaitProcessRequest;
import dev.katashim.protocols.kata.agent.WaitProcessResponse;
import dev.katashim.ttrpc.client.CallOptions;
import dev.katashim.ttrpc.client.TtrpcClient;
import dev.katashim.ttrpc.transport.Endpoint;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The agent client of scripts/test-guest-image and scripts/build-guest-image, on the ttrpc client
 * of shim-ttrpc alone (guest-agent/target/lib holds all it needs):
 *
 * <pre>
 * java -cp 'guest-agent/target/lib/*' GuestImageCheck.java SOCKET START_EPOCH_MS|@FILE           # health check
 * java -cp 'guest-agent/target/lib/*' GuestImageCheck.java SOCKET START_EPOCH_MS run ROOTFS CMD...  # and a container
 * java -cp 'guest-agent/target/lib/*' GuestImageCheck.java SOCKET START_EPOCH_MS train ROOTFS      # the image's CDS training
 * </pre>
 *
 * It connects to SOCKET (retrying until it exists), sends one Check and prints {@code ready_ms=N}
 * (from START_EPOCH_MS, e.g. QEMU's start) once the agent answers SERVING. On the host end of a
 * virtio-serial port the connection succeeds before the guest opens the port; QEMU holds what was
 * sent until then, so the answer comes as soon as the agent reads its port. {@code run}: creates a
 * sandbox and a busybox container (runc's default spec) on ROOTFS, a path inside the guest, starts
 * it, prints what it wrote between {@code --- stdout ---} and {@code --- end ---}, and removes it.
 * {@code train}: the calls a sandbox start makes, without starting a process. Exits 1 on failure.
 */
public final class GuestImageCheck {
    private static final String AGENT = "grpc.AgentService";
    private static final String HEALTH = "grpc.Health";
    private static final CallOptions LONG = CallOptions.timeout(Duration.ofSeconds(120));

    private final TtrpcClient client;

    private GuestImageCheck(TtrpcClient client) {
        this.client = client;
    }

    public static void main(String[] args) throws Exception {
        Path socket = Path.of(args[0]);
        // START_EPOCH_MS, or @FILE: read it from FILE once the agent answered (the caller starts
        // this JVM first, waits for "waiting" on stderr, then starts QEMU and writes the file)
        System.err.println("waiting for the agent on " + socket);
        long deadline = System.currentTimeMillis() + 120_000;
        TtrpcClient client = null;
        while (client == null) {
            try {
                client = TtrpcClient.builder(new Endpoint.UnixPath(socket)).connectTimeout(Duration.ofSeconds(2)).connect();
            } catch (IOException e) {
                if (System.currentTimeMillis() > deadline) {
                    throw new IOException("cannot connect to " + socket + " within 120 s", e);
                }
                Thread.sleep(10);
            }
        }
        try (TtrpcClient c = client) {
            GuestImageCheck check = new GuestImageCheck(c);
            HealthCheckResponse health = check.call(HEALTH, "Check", CheckRequest.getDefaultInstance(), HealthCheckResponse.parser());
            long answered = System.currentTimeMillis();
            long ready = answered - (args[1].startsWith("@")
                    ? Long.parseLong(java.nio.file.Files.readString(Path.of(args[1].substring(1))).strip())
                    : Long.parseLong(args[1]));
            VersionCheckResponse version = check.call(HEALTH, "Version", CheckRequest.getDefaultInstance(), VersionCheckResponse.parser());
            System.out.println("ready_ms=" + ready + " status=" + health.getStatus() + " agent_version=" + version.getAgentVersion());
            if (health.getStatus() != HealthCheckResponse.ServingStatus.SERVING) {
                System.exit(1);
            }
            if (args.length >= 4 && args[2].equals("run")) {
                check.run(args[3], List.of(args).subList(4, args.length));
            } else if (args.length == 4 && args[2].equals("train")) {
                check.train(args[3]);
            }
        }
    }

    private <T extends MessageLite> T call(String service, String method, MessageLite request, Parser<T> parser) throws InterruptedException {
        return client.blockingCall(service, method, request, parser, LONG);
    }

    private void run(String rootfs, List<String> command) throws InterruptedException {
        long t = System.currentTimeMillis();
        call(AGENT, "CreateSandbox", CreateSandboxRequest.newBuilder().setSandboxId("image-check").setHostname("image-check").build(), Empty.parser());
        call(AGENT, "CreateContainer", CreateContainerRequest.newBuilder().setContainerId("c1").setExecId("c1")
                .setOCI(spec(rootfs, command)).build(), Empty.parser());
        call(AGENT, "StartContainer", StartContainerRequest.newBuilder().setContainerId("c1").build(), Empty.parser());
        ByteArrayOutputStream stdout = new ByteArrayOutputStream();
        while (true) {
            ByteString chunk = call(AGENT, "ReadStdout", ReadStreamRequest.newBuilder().setContainerId("c1").setExecId("c1").setLen(65536).build(),
                    ReadStreamResponse.parser()).getData();
            if (chunk.isEmpty()) {
                break;
            }
            stdout.writeBytes(chunk.toByteArray());
        }
        int status = call(AGENT, "WaitProcess", WaitProcessRequest.newBuilder().setContainerId("c1").setExecId("c1").build(),
                WaitProcessResponse.parser()).getStatus();
        System.out.println("container_ms=" + (System.currentTimeMillis() - t) + " exit_status=" + status);
        System.out.println("--- stdout ---");
        System.out.print(stdout);
        System.out.println("--- end ---");
        call(AGENT, "RemoveContainer", RemoveContainerRequest.newBuilder().setContainerId("c1").build(), Empty.parser());
        call(AGENT, "DestroySandbox", DestroySandboxRequest.getDefaultInstance(), Empty.parser());
    }

    private void train(String rootfs) throws InterruptedException {
        call(AGENT, "GetGuestDetails", GuestDetailsRequest.newBuilder().setMemBlockSize(true).build(), GuestDetailsResponse.parser());
        call(AGENT, "CreateSandbox", CreateSandboxRequest.newBuilder().setSandboxId("train").setHostname("train").build(), Empty.parser());
        call(AGENT, "CreateContainer", CreateContainerRequest.newBuilder().setContainerId("train").setExecId("train")
                .setOCI(spec(rootfs, List.of("/bin/true"))).build(), Empty.parser());
        call(AGENT, "GetMetrics", GetMetricsRequest.getDefaultInstance(), Metrics.parser());
        call(AGENT, "RemoveContainer", RemoveContainerRequest.newBuilder().setContainerId("train").build(), Empty.parser());
        call(AGENT, "DestroySandbox", DestroySandboxRequest.getDefaultInstance(), Empty.parser());
    }

    /** runc's defaults (`runc spec`) for a non-terminal busybox container. */
    private static Spec spec(String rootfs, List<String> args) {
        List<String> caps = List.of("CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE");
        return Spec.newBuilder()
                .setVersion("1.0.2")
                .setProcess(Process.newBuilder()
                        .setUser(User.newBuilder().setUID(0).setGID(0))
                        .addAllArgs(args)
                        .addEnv("PATH=/usr/sbin:/usr/bin:/sbin:/bin")
                        .setCwd("/")
                        .setNoNewPrivileges(true)
                        .setCapabilities(LinuxCapabilities.newBuilder().addAllBounding(caps).addAllEffective(caps).addAllPermitted(caps)))
                .setRoot(Root.newBuilder().setPath(rootfs))
                .setHostname("image-check")
                .addMounts(mount("/proc", "proc", "proc", List.of("nosuid", "noexec", "nodev")))
                .addMounts(mount("/dev", "tmpfs", "tmpfs", List.of("nosuid", "strictatime", "mode=755", "size=65536k")))
                .addMounts(mount("/sys", "sysfs", "sysfs", List.of("nosuid", "noexec", "nodev", "ro")))
                .setLinux(Linux.newBuilder()
                        .setResources(LinuxResources.getDefaultInstance())
                        .addNamespaces(ns("pid")).addNamespaces(ns("ipc")).addNamespaces(ns("uts")).addNamespaces(ns("mount"))
                        .addNamespaces(ns("network")))
                .build();
    }

    private static Mount mount(String destination, String source, String type, List<String> options) {
        return Mount.newBuilder().setDestination(destination).setSource(source).setType(type).addAllOptions(options).build();
    }

    private static LinuxNamespace ns(String type) {
        return LinuxNamespace.newBuilder().setType(type).build();
    }
}
