package dev.katashim.cri;

import dev.katashim.cri.v1.*;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.unix.DomainSocketAddress;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A blocking client of a CRI runtime (containerd's CRI plugin) on its unix socket, as kubelet
 * talks to it. Every call has a deadline; a failed call throws {@link io.grpc.StatusRuntimeException}
 * with the runtime's message.
 *
 * <pre>{@code
 * try (CriClient cri = CriClient.connect(Path.of("/run/containerd/containerd.sock"), Duration.ofMinutes(4))) {
 *     String pod = cri.runPodSandbox(RunPodSandboxRequest.newBuilder().setConfig(config).setRuntimeHandler("kata").build())
 *             .getPodSandboxId();
 * }
 * }</pre>
 */
public final class CriClient implements AutoCloseable {
    /** Messages above gRPC's 4 MiB default: a verbose status or a big ExecSync output. */
    private static final int MAX_MESSAGE_BYTES = 64 << 20;

    private final EventLoopGroup group;
    private final ManagedChannel channel;
    private final Duration callTimeout;

    private CriClient(EventLoopGroup group, ManagedChannel channel, Duration callTimeout) {
        this.group = group;
        this.channel = channel;
        this.callTimeout = callTimeout;
    }

    /** Connects lazily (the first call dials); {@code callTimeout} is each call's deadline. */
    public static CriClient connect(Path socket, Duration callTimeout) {
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        ManagedChannel channel = NettyChannelBuilder.forAddress(new DomainSocketAddress(socket.toString()))
                .eventLoopGroup(group)
                .channelType(EpollDomainSocketChannel.class)
                // there is no host name on a unix socket; containerd ignores the authority
                .overrideAuthority("localhost")
                .usePlaintext()
                .maxInboundMessageSize(MAX_MESSAGE_BYTES)
                .build();
        return new CriClient(group, channel, callTimeout);
    }

    public Duration callTimeout() {
        return callTimeout;
    }

    /** Calls {@code method} with this client's deadline. */
    public <Q, R> R call(MethodDescriptor<Q, R> method, Q request) {
        return call(method, request, callTimeout);
    }

    /** Calls {@code method} with a deadline of its own (an ExecSync may need longer than a status). */
    public <Q, R> R call(MethodDescriptor<Q, R> method, Q request, Duration deadline) {
        return ClientCalls.blockingUnaryCall(channel, method,
                CallOptions.DEFAULT.withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS), request);
    }

    public VersionResponse version() {
        return call(CriMethods.VERSION, VersionRequest.newBuilder().setVersion("v1").build());
    }

    public StatusResponse status() {
        return call(CriMethods.STATUS, StatusRequest.getDefaultInstance());
    }

    public String runPodSandbox(PodSandboxConfig config, String runtimeHandler) {
        return call(CriMethods.RUN_POD_SANDBOX, RunPodSandboxRequest.newBuilder().setConfig(config)
                .setRuntimeHandler(runtimeHandler).build()).getPodSandboxId();
    }

    public void stopPodSandbox(String podId) {
        call(CriMethods.STOP_POD_SANDBOX, StopPodSandboxRequest.newBuilder().setPodSandboxId(podId).build());
    }

    public void removePodSandbox(String podId) {
        call(CriMethods.REMOVE_POD_SANDBOX, RemovePodSandboxRequest.newBuilder().setPodSandboxId(podId).build());
    }

    public PodSandboxStatusResponse podSandboxStatus(String podId) {
        return call(CriMethods.POD_SANDBOX_STATUS, PodSandboxStatusRequest.newBuilder().setPodSandboxId(podId).build());
    }

    public ListPodSandboxResponse listPodSandbox() {
        return call(CriMethods.LIST_POD_SANDBOX, ListPodSandboxRequest.getDefaultInstance());
    }

    public String createContainer(String podId, ContainerConfig config, PodSandboxConfig podConfig) {
        return call(CriMethods.CREATE_CONTAINER, CreateContainerRequest.newBuilder().setPodSandboxId(podId)
                .setConfig(config).setSandboxConfig(podConfig).build()).getContainerId();
    }

    public void startContainer(String containerId) {
        call(CriMethods.START_CONTAINER, StartContainerRequest.newBuilder().setContainerId(containerId).build());
    }

    public void stopContainer(String containerId, long timeoutSeconds) {
        call(CriMethods.STOP_CONTAINER, StopContainerRequest.newBuilder().setContainerId(containerId)
                .setTimeout(timeoutSeconds).build());
    }

    public void removeContainer(String containerId) {
        call(CriMethods.REMOVE_CONTAINER, RemoveContainerRequest.newBuilder().setContainerId(containerId).build());
    }

    public ListContainersResponse listContainers(ContainerFilter filter) {
        return call(CriMethods.LIST_CONTAINERS, ListContainersRequest.newBuilder().setFilter(filter).build());
    }

    public ContainerStatus containerStatus(String containerId) {
        return call(CriMethods.CONTAINER_STATUS, ContainerStatusRequest.newBuilder().setContainerId(containerId).build())
                .getStatus();
    }

    public void updateContainerResources(String containerId, LinuxContainerResources resources) {
        call(CriMethods.UPDATE_CONTAINER_RESOURCES, UpdateContainerResourcesRequest.newBuilder()
                .setContainerId(containerId).setLinux(resources).build());
    }

    public void reopenContainerLog(String containerId) {
        call(CriMethods.REOPEN_CONTAINER_LOG, ReopenContainerLogRequest.newBuilder().setContainerId(containerId).build());
    }

    /** ExecSync with the runtime's own {@code timeout}; our deadline leaves it room to say so first. */
    public ExecSyncResponse execSync(String containerId, Duration timeout, String... command) {
        ExecSyncRequest request = ExecSyncRequest.newBuilder().setContainerId(containerId)
                .addAllCmd(List.of(command)).setTimeout(timeout.toSeconds()).build();
        return call(CriMethods.EXEC_SYNC, request, timeout.isZero() ? callTimeout : timeout.plus(callTimeout));
    }

    /** The streaming server's URL for an exec; open it with {@link StreamingSession}. */
    public String exec(ExecRequest request) {
        return call(CriMethods.EXEC, request).getUrl();
    }

    public String attach(AttachRequest request) {
        return call(CriMethods.ATTACH, request).getUrl();
    }

    public ContainerStats containerStats(String containerId) {
        return call(CriMethods.CONTAINER_STATS, ContainerStatsRequest.newBuilder().setContainerId(containerId).build())
                .getStats();
    }

    public ListPodSandboxStatsResponse listPodSandboxStats(PodSandboxStatsFilter filter) {
        return call(CriMethods.LIST_POD_SANDBOX_STATS, ListPodSandboxStatsRequest.newBuilder().setFilter(filter).build());
    }

    public ListImagesResponse listImages() {
        return call(CriMethods.LIST_IMAGES, ListImagesRequest.getDefaultInstance());
    }

    @Override
    public void close() {
        channel.shutdownNow();
        try {
            channel.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }
}
