package dev.katashim.metrics;

import java.util.List;

/**
 * The {@code action} items the metrics reference (docs/metrics.md) lists for the two RPC histograms.
 * Their series exist from the start (zero calls is a true count), so a dashboard sees every one.
 */
public final class SpecActions {
    /** Task API actions ({@code kata_shim_rpc_durations_histogram_milliseconds}). */
    public static final List<String> SHIM = List.of(
            "checkpoint", "close_io", "connect", "create", "delete", "exec", "kill", "pause", "pids",
            "resize_pty", "resume", "shutdown", "start", "state", "stats", "update", "wait");

    /** Agent API actions ({@code kata_shim_agent_rpc_durations_histogram_milliseconds}): {@code grpc.<Request>}. */
    public static final List<String> AGENT = List.of(
            "grpc.CheckRequest", "grpc.CloseStdinRequest", "grpc.CopyFileRequest", "grpc.CreateContainerRequest",
            "grpc.CreateSandboxRequest", "grpc.DestroySandboxRequest", "grpc.ExecProcessRequest", "grpc.GetMetricsRequest",
            "grpc.GuestDetailsRequest", "grpc.ListInterfacesRequest", "grpc.ListProcessesRequest", "grpc.ListRoutesRequest",
            "grpc.MemHotplugByProbeRequest", "grpc.OnlineCPUMemRequest", "grpc.PauseContainerRequest",
            "grpc.RemoveContainerRequest", "grpc.ReseedRandomDevRequest", "grpc.ResumeContainerRequest",
            "grpc.SetGuestDateTimeRequest", "grpc.SignalProcessRequest", "grpc.StartContainerRequest",
            "grpc.StatsContainerRequest", "grpc.TtyWinResizeRequest", "grpc.UpdateContainerRequest",
            "grpc.UpdateInterfaceRequest", "grpc.UpdateRoutesRequest", "grpc.WaitProcessRequest", "grpc.WriteStreamRequest");

    private SpecActions() {
    }
}
