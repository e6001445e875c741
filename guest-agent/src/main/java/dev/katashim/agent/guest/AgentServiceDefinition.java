package dev.katashim.agent.guest;

import com.google.protobuf.MessageLite;
import com.google.protobuf.Parser;
import dev.katashim.agent.guest.process.StartLimit;
import dev.katashim.protocols.kata.agent.AddARPNeighborsRequest;
import dev.katashim.protocols.kata.agent.AddSwapPathRequest;
import dev.katashim.protocols.kata.agent.AddSwapRequest;
import dev.katashim.protocols.kata.agent.CloseStdinRequest;
import dev.katashim.protocols.kata.agent.CopyFileRequest;
import dev.katashim.protocols.kata.agent.CreateContainerRequest;
import dev.katashim.protocols.kata.agent.CreateSandboxRequest;
import dev.katashim.protocols.kata.agent.DestroySandboxRequest;
import dev.katashim.protocols.kata.agent.ExecProcessRequest;
import dev.katashim.protocols.kata.agent.GetDiagnosticDataRequest;
import dev.katashim.protocols.kata.agent.GetIPTablesRequest;
import dev.katashim.protocols.kata.agent.GetMetricsRequest;
import dev.katashim.protocols.kata.agent.GetOOMEventRequest;
import dev.katashim.protocols.kata.agent.GuestDetailsRequest;
import dev.katashim.protocols.kata.agent.ListInterfacesRequest;
import dev.katashim.protocols.kata.agent.ListProcessesRequest;
import dev.katashim.protocols.kata.agent.ListRoutesRequest;
import dev.katashim.protocols.kata.agent.MemAgentCompactConfig;
import dev.katashim.protocols.kata.agent.MemAgentMemcgConfig;
import dev.katashim.protocols.kata.agent.MemHotplugByProbeRequest;
import dev.katashim.protocols.kata.agent.OnlineCPUMemRequest;
import dev.katashim.protocols.kata.agent.PauseContainerRequest;
import dev.katashim.protocols.kata.agent.ReadStreamRequest;
import dev.katashim.protocols.kata.agent.RemoveContainerRequest;
import dev.katashim.protocols.kata.agent.RemoveStaleVirtiofsShareMountsRequest;
import dev.katashim.protocols.kata.agent.ReseedRandomDevRequest;
import dev.katashim.protocols.kata.agent.ResizeVolumeRequest;
import dev.katashim.protocols.kata.agent.ResumeContainerRequest;
import dev.katashim.protocols.kata.agent.SetGuestDateTimeRequest;
import dev.katashim.protocols.kata.agent.SetIPTablesRequest;
import dev.katashim.protocols.kata.agent.SetPolicyRequest;
import dev.katashim.protocols.kata.agent.SignalProcessRequest;
import dev.katashim.protocols.kata.agent.StartContainerRequest;
import dev.katashim.protocols.kata.agent.StatsContainerRequest;
import dev.katashim.protocols.kata.agent.TtyWinResizeRequest;
import dev.katashim.protocols.kata.agent.UpdateContainerRequest;
import dev.katashim.protocols.kata.agent.UpdateEphemeralMountsRequest;
import dev.katashim.protocols.kata.agent.UpdateInterfaceRequest;
import dev.katashim.protocols.kata.agent.UpdateRoutesRequest;
import dev.katashim.protocols.kata.agent.VolumeStatsRequest;
import dev.katashim.protocols.kata.agent.WaitProcessRequest;
import dev.katashim.protocols.kata.agent.WriteStreamRequest;
import dev.katashim.ttrpc.server.ServiceDefinition;

import java.util.List;

/**
 * {@code grpc.AgentService} on ttrpc: every one of its RPCs registered, the implemented ones bound
 * to {@link AgentService}, the others answering UNIMPLEMENTED with the method's name (never a
 * pretended success).
 */
public final class AgentServiceDefinition {
    public static final String SERVICE = "grpc.AgentService";

    /**
     * RPCs this agent does not implement: guest networking (the no-VM sandbox uses the host's
     * network; inside a VM it is not built yet), policies, swap, volumes, memory agent, hotplug by
     * probe and entropy reseeding.
     */
    public static final List<String> UNIMPLEMENTED = List.of(
            "RemoveStaleVirtiofsShareMounts", "GetDiagnosticData",
            "UpdateInterface", "UpdateRoutes", "ListInterfaces", "ListRoutes", "AddARPNeighbors",
            "GetIPTables", "SetIPTables", "MemAgentMemcgSet", "MemAgentCompactSet", "ReseedRandomDev",
            "MemHotplugByProbe", "AddSwap", "AddSwapPath", "GetVolumeStats", "ResizeVolume", "SetPolicy");

    private AgentServiceDefinition() {
    }

    public static ServiceDefinition of(AgentService agent) {
        ServiceDefinition.Builder b = ServiceDefinition.builder(SERVICE);
        // Containers and processes.
        b.unary("CreateContainer", CreateContainerRequest.parser(), (r, c) -> agent.createContainer(r));
        b.unary("StartContainer", StartContainerRequest.parser(), (r, c) -> agent.startContainer(r, StartLimit.of(c)));
        b.unary("RemoveContainer", RemoveContainerRequest.parser(), (r, c) -> agent.removeContainer(r));
        b.unary("ExecProcess", ExecProcessRequest.parser(), (r, c) -> agent.execProcess(r, StartLimit.of(c)));
        b.unary("SignalProcess", SignalProcessRequest.parser(), (r, c) -> agent.signalProcess(r));
        b.unary("WaitProcess", WaitProcessRequest.parser(), (r, c) -> agent.waitProcess(r));
        b.unary("UpdateContainer", UpdateContainerRequest.parser(), (r, c) -> agent.updateContainer(r));
        b.unary("StatsContainer", StatsContainerRequest.parser(), (r, c) -> agent.statsContainer(r));
        b.unary("PauseContainer", PauseContainerRequest.parser(), (r, c) -> agent.pauseContainer(r));
        b.unary("ResumeContainer", ResumeContainerRequest.parser(), (r, c) -> agent.resumeContainer(r));
        b.unary("ListProcesses", ListProcessesRequest.parser(), (r, c) -> agent.listProcesses(r));
        // Stdio.
        b.unary("WriteStdin", WriteStreamRequest.parser(), (r, c) -> agent.writeStdin(r));
        b.unary("ReadStdout", ReadStreamRequest.parser(), (r, c) -> agent.readStdout(r));
        b.unary("ReadStderr", ReadStreamRequest.parser(), (r, c) -> agent.readStderr(r));
        b.unary("CloseStdin", CloseStdinRequest.parser(), (r, c) -> agent.closeStdin(r));
        b.unary("TtyWinResize", TtyWinResizeRequest.parser(), (r, c) -> agent.ttyWinResize(r));
        // Metrics and events.
        b.unary("GetMetrics", GetMetricsRequest.parser(), (r, c) -> agent.getMetrics(r));
        b.unary("GetOOMEvent", GetOOMEventRequest.parser(), (r, c) -> agent.getOOMEvent(r));
        // Sandbox and guest.
        b.unary("CreateSandbox", CreateSandboxRequest.parser(), (r, c) -> agent.createSandbox(r));
        b.unary("DestroySandbox", DestroySandboxRequest.parser(), (r, c) -> agent.destroySandbox(r));
        b.unary("UpdateEphemeralMounts", UpdateEphemeralMountsRequest.parser(), (r, c) -> agent.updateEphemeralMounts(r));
        b.unary("OnlineCPUMem", OnlineCPUMemRequest.parser(), (r, c) -> agent.onlineCpuMem(r));
        b.unary("GetGuestDetails", GuestDetailsRequest.parser(), (r, c) -> agent.getGuestDetails(r));
        b.unary("SetGuestDateTime", SetGuestDateTimeRequest.parser(), (r, c) -> agent.setGuestDateTime(r));
        b.unary("CopyFile", CopyFileRequest.parser(), (r, c) -> agent.copyFile(r));

        unimplemented(b, "RemoveStaleVirtiofsShareMounts", RemoveStaleVirtiofsShareMountsRequest.parser());
        unimplemented(b, "GetDiagnosticData", GetDiagnosticDataRequest.parser());
        unimplemented(b, "UpdateInterface", UpdateInterfaceRequest.parser());
        unimplemented(b, "UpdateRoutes", UpdateRoutesRequest.parser());
        unimplemented(b, "ListInterfaces", ListInterfacesRequest.parser());
        unimplemented(b, "ListRoutes", ListRoutesRequest.parser());
        unimplemented(b, "AddARPNeighbors", AddARPNeighborsRequest.parser());
        unimplemented(b, "GetIPTables", GetIPTablesRequest.parser());
        unimplemented(b, "SetIPTables", SetIPTablesRequest.parser());
        unimplemented(b, "MemAgentMemcgSet", MemAgentMemcgConfig.parser());
        unimplemented(b, "MemAgentCompactSet", MemAgentCompactConfig.parser());
        unimplemented(b, "ReseedRandomDev", ReseedRandomDevRequest.parser());
        unimplemented(b, "MemHotplugByProbe", MemHotplugByProbeRequest.parser());
        unimplemented(b, "AddSwap", AddSwapRequest.parser());
        unimplemented(b, "AddSwapPath", AddSwapPathRequest.parser());
        unimplemented(b, "GetVolumeStats", VolumeStatsRequest.parser());
        unimplemented(b, "ResizeVolume", ResizeVolumeRequest.parser());
        unimplemented(b, "SetPolicy", SetPolicyRequest.parser());
        return b.build();
    }

    private static <R extends MessageLite> void unimplemented(ServiceDefinition.Builder b, String method, Parser<R> parser) {
        b.unary(method, parser, (r, c) -> {
            throw AgentStatus.unimplemented(method);
        });
    }
}
