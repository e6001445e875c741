package dev.katashim.protocols;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Descriptors.MethodDescriptor;
import com.google.protobuf.Descriptors.ServiceDescriptor;
import dev.katashim.protocols.kata.agent.AgentProto;
import dev.katashim.protocols.kata.agent.CreateContainerRequest;
import dev.katashim.protocols.kata.agent.ExecProcessRequest;
import dev.katashim.protocols.kata.agent.HealthCheckResponse;
import dev.katashim.protocols.kata.agent.HealthProto;
import dev.katashim.protocols.kata.agent.LinuxSyscall;
import dev.katashim.protocols.kata.agent.ReseedRandomDevRequest;
import dev.katashim.protocols.kata.agent.Spec;
import dev.katashim.protocols.kata.agent.StatsContainerResponse;
import dev.katashim.protocols.kata.agent.Storage;
import dev.katashim.protocols.kata.agent.WaitProcessResponse;
import dev.katashim.protocols.kata.types.ARPNeighbor;
import dev.katashim.protocols.kata.types.Interface;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Pins what a ttrpc peer of the Kata agent depends on: service/method names (they form the
 * ttrpc service and method strings), message full names and field numbers. Values were checked
 * against kata-containers src/libs/protocols/protos (main, 7c6ba40c54ea).
 */
class KataAgentSchemaTest {

  private static final ServiceDescriptor AGENT =
      AgentProto.getDescriptor().findServiceByName("AgentService");
  private static final ServiceDescriptor HEALTH =
      HealthProto.getDescriptor().findServiceByName("Health");

  @Test
  void serviceFullNames() {
    assertThat(AGENT).isNotNull();
    assertThat(HEALTH).isNotNull();
    assertThat(AGENT.getFullName()).isEqualTo("grpc.AgentService");
    assertThat(HEALTH.getFullName()).isEqualTo("grpc.Health");
  }

  @Test
  void agentServiceMethodsInUpstreamOrderWithUpstreamTypes() {
    // method -> {input, output}, in upstream declaration order.
    Map<String, String[]> expected = new LinkedHashMap<>();
    expected.put("CreateContainer", io("CreateContainerRequest", "google.protobuf.Empty"));
    expected.put("StartContainer", io("StartContainerRequest", "google.protobuf.Empty"));
    expected.put("RemoveContainer", io("RemoveContainerRequest", "google.protobuf.Empty"));
    expected.put("ExecProcess", io("ExecProcessRequest", "google.protobuf.Empty"));
    expected.put("SignalProcess", io("SignalProcessRequest", "google.protobuf.Empty"));
    expected.put("WaitProcess", io("WaitProcessRequest", "grpc.WaitProcessResponse"));
    expected.put("UpdateContainer", io("UpdateContainerRequest", "google.protobuf.Empty"));
    expected.put("UpdateEphemeralMounts", io("UpdateEphemeralMountsRequest", "google.protobuf.Empty"));
    expected.put("StatsContainer", io("StatsContainerRequest", "grpc.StatsContainerResponse"));
    expected.put("PauseContainer", io("PauseContainerRequest", "google.protobuf.Empty"));
    expected.put("ResumeContainer", io("ResumeContainerRequest", "google.protobuf.Empty"));
    expected.put("RemoveStaleVirtiofsShareMounts",
        io("RemoveStaleVirtiofsShareMountsRequest", "google.protobuf.Empty"));
    expected.put("GetDiagnosticData", io("GetDiagnosticDataRequest", "grpc.GetDiagnosticDataResponse"));
    expected.put("WriteStdin", io("WriteStreamRequest", "grpc.WriteStreamResponse"));
    expected.put("ReadStdout", io("ReadStreamRequest", "grpc.ReadStreamResponse"));
    expected.put("ReadStderr", io("ReadStreamRequest", "grpc.ReadStreamResponse"));
    expected.put("CloseStdin", io("CloseStdinRequest", "google.protobuf.Empty"));
    expected.put("TtyWinResize", io("TtyWinResizeRequest", "google.protobuf.Empty"));
    expected.put("UpdateInterface", io("UpdateInterfaceRequest", "types.Interface"));
    expected.put("UpdateRoutes", io("UpdateRoutesRequest", "grpc.Routes"));
    expected.put("ListInterfaces", io("ListInterfacesRequest", "grpc.Interfaces"));
    expected.put("ListRoutes", io("ListRoutesRequest", "grpc.Routes"));
    expected.put("AddARPNeighbors", io("AddARPNeighborsRequest", "google.protobuf.Empty"));
    expected.put("GetIPTables", io("GetIPTablesRequest", "grpc.GetIPTablesResponse"));
    expected.put("SetIPTables", io("SetIPTablesRequest", "grpc.SetIPTablesResponse"));
    expected.put("GetMetrics", io("GetMetricsRequest", "grpc.Metrics"));
    expected.put("MemAgentMemcgSet", io("MemAgentMemcgConfig", "google.protobuf.Empty"));
    expected.put("MemAgentCompactSet", io("MemAgentCompactConfig", "google.protobuf.Empty"));
    expected.put("CreateSandbox", io("CreateSandboxRequest", "google.protobuf.Empty"));
    expected.put("DestroySandbox", io("DestroySandboxRequest", "google.protobuf.Empty"));
    expected.put("OnlineCPUMem", io("OnlineCPUMemRequest", "google.protobuf.Empty"));
    expected.put("ReseedRandomDev", io("ReseedRandomDevRequest", "google.protobuf.Empty"));
    expected.put("GetGuestDetails", io("GuestDetailsRequest", "grpc.GuestDetailsResponse"));
    expected.put("MemHotplugByProbe", io("MemHotplugByProbeRequest", "google.protobuf.Empty"));
    expected.put("SetGuestDateTime", io("SetGuestDateTimeRequest", "google.protobuf.Empty"));
    expected.put("CopyFile", io("CopyFileRequest", "google.protobuf.Empty"));
    expected.put("GetOOMEvent", io("GetOOMEventRequest", "grpc.OOMEvent"));
    expected.put("AddSwap", io("AddSwapRequest", "google.protobuf.Empty"));
    expected.put("AddSwapPath", io("AddSwapPathRequest", "google.protobuf.Empty"));
    expected.put("GetVolumeStats", io("VolumeStatsRequest", "grpc.VolumeStatsResponse"));
    expected.put("ResizeVolume", io("ResizeVolumeRequest", "google.protobuf.Empty"));
    expected.put("SetPolicy", io("SetPolicyRequest", "google.protobuf.Empty"));
    // ours, after upstream's: see agent.proto
    expected.put("ListProcesses", io("ListProcessesRequest", "grpc.ListProcessesResponse"));

    List<MethodDescriptor> methods = AGENT.getMethods();
    assertThat(methods).extracting(MethodDescriptor::getName)
        .containsExactlyElementsOf(expected.keySet());
    assertThat(methods).hasSize(43);
    for (MethodDescriptor m : methods) {
      String[] types = expected.get(m.getName());
      assertThat(m.getInputType().getFullName()).as(m.getName() + " input").isEqualTo(types[0]);
      assertThat(m.getOutputType().getFullName()).as(m.getName() + " output").isEqualTo(types[1]);
      assertThat(m.isClientStreaming()).isFalse();
      assertThat(m.isServerStreaming()).isFalse();
    }
  }

  @Test
  void healthServiceMethods() {
    assertThat(HEALTH.getMethods()).extracting(MethodDescriptor::getName)
        .containsExactly("Check", "Version");
    MethodDescriptor check = HEALTH.findMethodByName("Check");
    assertThat(check.getInputType().getFullName()).isEqualTo("grpc.CheckRequest");
    assertThat(check.getOutputType().getFullName()).isEqualTo("grpc.HealthCheckResponse");
    MethodDescriptor version = HEALTH.findMethodByName("Version");
    assertThat(version.getInputType().getFullName()).isEqualTo("grpc.CheckRequest");
    assertThat(version.getOutputType().getFullName()).isEqualTo("grpc.VersionCheckResponse");
    assertThat(HealthCheckResponse.ServingStatus.SERVING.getNumber()).isEqualTo(1);
    assertThat(HealthCheckResponse.ServingStatus.NOT_SERVING.getNumber()).isEqualTo(2);
  }

  @Test
  void fieldNumbersAPeerDependsOn() {
    assertField(CreateContainerRequest.getDescriptor(), "container_id", 1, "grpc.CreateContainerRequest");
    assertField(CreateContainerRequest.getDescriptor(), "exec_id", 2, null);
    assertField(CreateContainerRequest.getDescriptor(), "devices", 4, null);
    assertField(CreateContainerRequest.getDescriptor(), "storages", 5, null);
    assertField(CreateContainerRequest.getDescriptor(), "OCI", 6, null);
    assertThat(CreateContainerRequest.getDescriptor().findFieldByName("OCI").getMessageType().getFullName())
        .isEqualTo("grpc.Spec");
    assertField(CreateContainerRequest.getDescriptor(), "sandbox_pidns", 7, null);
    assertField(CreateContainerRequest.getDescriptor(), "stderr_port", 11, null);

    assertField(ExecProcessRequest.getDescriptor(), "process", 4, "grpc.ExecProcessRequest");
    assertThat(ExecProcessRequest.getDescriptor().findFieldByName("process").getMessageType().getFullName())
        .isEqualTo("grpc.Process");

    assertField(WaitProcessResponse.getDescriptor(), "status", 1, "grpc.WaitProcessResponse");
    assertThat(WaitProcessResponse.getDescriptor().findFieldByName("status").getType())
        .isEqualTo(FieldDescriptor.Type.INT32);

    assertField(StatsContainerResponse.getDescriptor(), "cgroup_stats", 1, "grpc.StatsContainerResponse");
    assertField(StatsContainerResponse.getDescriptor(), "network_stats", 2, null);

    assertField(Spec.getDescriptor(), "Version", 1, "grpc.Spec");
    assertField(Spec.getDescriptor(), "Process", 2, null);
    assertField(Spec.getDescriptor(), "Root", 3, null);
    assertField(Spec.getDescriptor(), "Mounts", 5, null);
    assertField(Spec.getDescriptor(), "Annotations", 7, null);
    assertField(Spec.getDescriptor(), "Linux", 8, null);

    // Upstream leaves field 1 unused in these two messages.
    assertField(ReseedRandomDevRequest.getDescriptor(), "data", 2, "grpc.ReseedRandomDevRequest");
    assertThat(ReseedRandomDevRequest.getDescriptor().findFieldByNumber(1)).isNull();

    assertField(Storage.getDescriptor(), "mount_point", 6, "grpc.Storage");
    assertField(Storage.getDescriptor(), "shared", 8, null);

    FieldDescriptor errno = LinuxSyscall.getDescriptor().findFieldByName("errnoret");
    assertThat(errno.getNumber()).isEqualTo(3);
    assertThat(errno.getRealContainingOneof().getName()).isEqualTo("ErrnoRet");

    assertField(Interface.getDescriptor(), "IPAddresses", 3, "types.Interface");
    assertField(Interface.getDescriptor(), "raw_flags", 8, null);
    assertField(ARPNeighbor.getDescriptor(), "toIPAddress", 1, "types.ARPNeighbor");
  }

  private static void assertField(Descriptor message, String name, int number, String messageFullName) {
    if (messageFullName != null) {
      assertThat(message.getFullName()).isEqualTo(messageFullName);
    }
    FieldDescriptor field = message.findFieldByName(name);
    assertThat(field).as(message.getFullName() + "." + name).isNotNull();
    assertThat(field.getNumber()).as(message.getFullName() + "." + name).isEqualTo(number);
  }

  private static String[] io(String inputSimpleName, String outputFullName) {
    return new String[] {"grpc." + inputSimpleName, outputFullName};
  }
}
