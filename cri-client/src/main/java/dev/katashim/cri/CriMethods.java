package dev.katashim.cri;

import com.google.protobuf.Message;
import dev.katashim.cri.v1.*;
import io.grpc.MethodDescriptor;
import io.grpc.protobuf.ProtoUtils;

/**
 * The CRI's unary methods as gRPC descriptors, written by hand (no protoc-gen-grpc-java binary is
 * to be had here): full names are {@code runtime.v1.RuntimeService/<Method>}, as kubelet calls them.
 */
public final class CriMethods {
    static final String RUNTIME_SERVICE = "runtime.v1.RuntimeService";
    static final String IMAGE_SERVICE = "runtime.v1.ImageService";

    public static final MethodDescriptor<VersionRequest, VersionResponse> VERSION =
            runtime("Version", VersionRequest.getDefaultInstance(), VersionResponse.getDefaultInstance());
    public static final MethodDescriptor<StatusRequest, StatusResponse> STATUS =
            runtime("Status", StatusRequest.getDefaultInstance(), StatusResponse.getDefaultInstance());
    public static final MethodDescriptor<RunPodSandboxRequest, RunPodSandboxResponse> RUN_POD_SANDBOX =
            runtime("RunPodSandbox", RunPodSandboxRequest.getDefaultInstance(), RunPodSandboxResponse.getDefaultInstance());
    public static final MethodDescriptor<StopPodSandboxRequest, StopPodSandboxResponse> STOP_POD_SANDBOX =
            runtime("StopPodSandbox", StopPodSandboxRequest.getDefaultInstance(), StopPodSandboxResponse.getDefaultInstance());
    public static final MethodDescriptor<RemovePodSandboxRequest, RemovePodSandboxResponse> REMOVE_POD_SANDBOX =
            runtime("RemovePodSandbox", RemovePodSandboxRequest.getDefaultInstance(), RemovePodSandboxResponse.getDefaultInstance());
    public static final MethodDescriptor<PodSandboxStatusRequest, PodSandboxStatusResponse> POD_SANDBOX_STATUS =
            runtime("PodSandboxStatus", PodSandboxStatusRequest.getDefaultInstance(), PodSandboxStatusResponse.getDefaultInstance());
    public static final MethodDescriptor<ListPodSandboxRequest, ListPodSandboxResponse> LIST_POD_SANDBOX =
            runtime("ListPodSandbox", ListPodSandboxRequest.getDefaultInstance(), ListPodSandboxResponse.getDefaultInstance());
    public static final MethodDescriptor<CreateContainerRequest, CreateContainerResponse> CREATE_CONTAINER =
            runtime("CreateContainer", CreateContainerRequest.getDefaultInstance(), CreateContainerResponse.getDefaultInstance());
    public static final MethodDescriptor<StartContainerRequest, StartContainerResponse> START_CONTAINER =
            runtime("StartContainer", StartContainerRequest.getDefaultInstance(), StartContainerResponse.getDefaultInstance());
    public static final MethodDescriptor<StopContainerRequest, StopContainerResponse> STOP_CONTAINER =
            runtime("StopContainer", StopContainerRequest.getDefaultInstance(), StopContainerResponse.getDefaultInstance());
    public static final MethodDescriptor<RemoveContainerRequest, RemoveContainerResponse> REMOVE_CONTAINER =
            runtime("RemoveContainer", RemoveContainerRequest.getDefaultInstance(), RemoveContainerResponse.getDefaultInstance());
    public static final MethodDescriptor<ListContainersRequest, ListContainersResponse> LIST_CONTAINERS =
            runtime("ListContainers", ListContainersRequest.getDefaultInstance(), ListContainersResponse.getDefaultInstance());
    public static final MethodDescriptor<ContainerStatusRequest, ContainerStatusResponse> CONTAINER_STATUS =
            runtime("ContainerStatus", ContainerStatusRequest.getDefaultInstance(), ContainerStatusResponse.getDefaultInstance());
    public static final MethodDescriptor<UpdateContainerResourcesRequest, UpdateContainerResourcesResponse> UPDATE_CONTAINER_RESOURCES =
            runtime("UpdateContainerResources", UpdateContainerResourcesRequest.getDefaultInstance(), UpdateContainerResourcesResponse.getDefaultInstance());
    public static final MethodDescriptor<ReopenContainerLogRequest, ReopenContainerLogResponse> REOPEN_CONTAINER_LOG =
            runtime("ReopenContainerLog", ReopenContainerLogRequest.getDefaultInstance(), ReopenContainerLogResponse.getDefaultInstance());
    public static final MethodDescriptor<ExecSyncRequest, ExecSyncResponse> EXEC_SYNC =
            runtime("ExecSync", ExecSyncRequest.getDefaultInstance(), ExecSyncResponse.getDefaultInstance());
    public static final MethodDescriptor<ExecRequest, ExecResponse> EXEC =
            runtime("Exec", ExecRequest.getDefaultInstance(), ExecResponse.getDefaultInstance());
    public static final MethodDescriptor<AttachRequest, AttachResponse> ATTACH =
            runtime("Attach", AttachRequest.getDefaultInstance(), AttachResponse.getDefaultInstance());
    public static final MethodDescriptor<ContainerStatsRequest, ContainerStatsResponse> CONTAINER_STATS =
            runtime("ContainerStats", ContainerStatsRequest.getDefaultInstance(), ContainerStatsResponse.getDefaultInstance());
    public static final MethodDescriptor<ListContainerStatsRequest, ListContainerStatsResponse> LIST_CONTAINER_STATS =
            runtime("ListContainerStats", ListContainerStatsRequest.getDefaultInstance(), ListContainerStatsResponse.getDefaultInstance());
    public static final MethodDescriptor<PodSandboxStatsRequest, PodSandboxStatsResponse> POD_SANDBOX_STATS =
            runtime("PodSandboxStats", PodSandboxStatsRequest.getDefaultInstance(), PodSandboxStatsResponse.getDefaultInstance());
    public static final MethodDescriptor<ListPodSandboxStatsRequest, ListPodSandboxStatsResponse> LIST_POD_SANDBOX_STATS =
            runtime("ListPodSandboxStats", ListPodSandboxStatsRequest.getDefaultInstance(), ListPodSandboxStatsResponse.getDefaultInstance());

    public static final MethodDescriptor<ListImagesRequest, ListImagesResponse> LIST_IMAGES =
            image("ListImages", ListImagesRequest.getDefaultInstance(), ListImagesResponse.getDefaultInstance());
    public static final MethodDescriptor<ImageStatusRequest, ImageStatusResponse> IMAGE_STATUS =
            image("ImageStatus", ImageStatusRequest.getDefaultInstance(), ImageStatusResponse.getDefaultInstance());

    private CriMethods() {
    }

    private static <Q extends Message, R extends Message> MethodDescriptor<Q, R> runtime(String name, Q request, R response) {
        return unary(RUNTIME_SERVICE, name, request, response);
    }

    private static <Q extends Message, R extends Message> MethodDescriptor<Q, R> image(String name, Q request, R response) {
        return unary(IMAGE_SERVICE, name, request, response);
    }

    private static <Q extends Message, R extends Message> MethodDescriptor<Q, R> unary(String service, String name, Q request, R response) {
        return MethodDescriptor.<Q, R>newBuilder()
                .setType(MethodDescriptor.MethodType.UNARY)
                .setFullMethodName(MethodDescriptor.generateFullMethodName(service, name))
                .setRequestMarshaller(ProtoUtils.marshaller(request))
                .setResponseMarshaller(ProtoUtils.marshaller(response))
                .build();
    }
}
