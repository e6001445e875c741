package dev.katashim.protocols;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.EnumDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Descriptors.MethodDescriptor;
import com.google.protobuf.Descriptors.ServiceDescriptor;
import dev.katashim.protocols.containerd.runtime.bootstrap.v1.BootstrapParams;
import dev.katashim.protocols.containerd.runtime.bootstrap.v1.BootstrapResult;
import dev.katashim.protocols.containerd.runtime.bootstrap.v1.Extension;
import dev.katashim.protocols.containerd.runtime.bootstrap.v1.LogLevel;
import dev.katashim.protocols.containerd.runtime.sandbox.v1.CreateSandboxRequest;
import dev.katashim.protocols.containerd.runtime.sandbox.v1.SandboxMetricsResponse;
import dev.katashim.protocols.containerd.runtime.sandbox.v1.SandboxProto;
import dev.katashim.protocols.containerd.runtime.sandbox.v1.SandboxStatusResponse;
import dev.katashim.protocols.containerd.runtime.sandbox.v1.StartSandboxResponse;
import dev.katashim.protocols.containerd.runtime.sandbox.v1.StopSandboxRequest;
import dev.katashim.protocols.containerd.runtime.sandbox.v1.WaitSandboxResponse;
import dev.katashim.protocols.containerd.types.Metric;
import dev.katashim.protocols.containerd.types.Platform;
import dev.katashim.protocols.containerd.types.RuntimeInfo;
import dev.katashim.protocols.containerd.types.RuntimeVersion;
import dev.katashim.protocols.runtimeoptions.v1.Options;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Pins what containerd 2.x (read from v2.3.4's api/) relies on beyond the 1.6 schemas: the task
 * v3 service (the v2 wire format under another package), the start handshake's BootstrapParams
 * and BootstrapResult, {@code -info}'s RuntimeInfo and the Sandbox API.
 */
class ContainerdV2SchemaTest {
  private static final List<String> TASK_METHODS = List.of(
      "State", "Create", "Start", "Delete", "Pids", "Pause", "Resume", "Checkpoint", "Kill",
      "Exec", "ResizePty", "CloseIO", "Update", "Wait", "Stats", "Connect", "Shutdown");

  @Test
  void taskV3IsTheV2WireFormatUnderAnotherName() {
    ServiceDescriptor v2 = dev.katashim.protocols.containerd.task.v2.ShimProto.getDescriptor()
        .findServiceByName("Task");
    ServiceDescriptor v3 = dev.katashim.protocols.containerd.task.v3.ShimProto.getDescriptor()
        .findServiceByName("Task");
    assertThat(v3.getFullName()).isEqualTo("containerd.task.v3.Task");
    assertThat(v3.getMethods()).extracting(MethodDescriptor::getName)
        .containsExactlyElementsOf(TASK_METHODS);
    for (String name : TASK_METHODS) {
      MethodDescriptor m2 = v2.findMethodByName(name);
      MethodDescriptor m3 = v3.findMethodByName(name);
      assertSameLayout(m2.getInputType(), m3.getInputType());
      assertSameLayout(m2.getOutputType(), m3.getOutputType());
    }
    assertThat(v3.findMethodByName("Create").getInputType().getFullName())
        .isEqualTo("containerd.task.v3.CreateTaskRequest");
    assertThat(v3.findMethodByName("Kill").getOutputType().getFullName())
        .isEqualTo("google.protobuf.Empty");
  }

  @Test
  void bootstrapParamsFieldNumbers() {
    Descriptor params = BootstrapParams.getDescriptor();
    assertThat(params.getFullName()).isEqualTo("containerd.runtime.bootstrap.v1.BootstrapParams");
    assertThat(numbers(params)).containsExactlyEntriesOf(ordered(
        "instance_id", 1, "namespace", 2, "log_level", 3, "containerd_version", 4,
        "containerd_ttrpc_address", 5, "containerd_grpc_address", 6, "containerd_binary", 7,
        "extensions", 8, "socket_dir", 9));
    assertThat(params.findFieldByName("extensions").isRepeated()).isTrue();
    assertThat(params.findFieldByName("extensions").getMessageType().getFullName())
        .isEqualTo("containerd.runtime.bootstrap.v1.Extension");
    assertThat(params.findFieldByName("socket_dir").hasPresence()).isTrue();
    assertThat(number(Extension.getDescriptor(), "value")).isEqualTo(1);
    assertThat(Extension.getDescriptor().findFieldByName("value").getMessageType().getFullName())
        .isEqualTo("google.protobuf.Any");

    EnumDescriptor level = LogLevel.getDescriptor();
    assertThat(level.getFullName()).isEqualTo("containerd.runtime.bootstrap.v1.LogLevel");
    assertThat(LogLevel.LOG_LEVEL_INFO.getNumber()).isZero();
    assertThat(LogLevel.LOG_LEVEL_TRACE.getNumber()).isEqualTo(-8);
    assertThat(LogLevel.LOG_LEVEL_DEBUG.getNumber()).isEqualTo(-4);
    assertThat(LogLevel.LOG_LEVEL_WARN.getNumber()).isEqualTo(4);
    assertThat(LogLevel.LOG_LEVEL_ERROR.getNumber()).isEqualTo(8);
    assertThat(LogLevel.LOG_LEVEL_FATAL.getNumber()).isEqualTo(10);
    assertThat(LogLevel.LOG_LEVEL_PANIC.getNumber()).isEqualTo(12);
  }

  @Test
  void bootstrapResultFieldNumbers() {
    Descriptor result = BootstrapResult.getDescriptor();
    assertThat(result.getFullName()).isEqualTo("containerd.runtime.bootstrap.v1.BootstrapResult");
    assertThat(numbers(result)).containsExactlyEntriesOf(ordered(
        "version", 1, "address", 2, "protocol", 3, "capabilities", 4, "metadata", 5));
    assertThat(result.findFieldByName("version").getType()).isEqualTo(FieldDescriptor.Type.INT32);
    assertThat(result.findFieldByName("metadata").isMapField()).isTrue();
  }

  @Test
  void runtimeInfoForInfo() {
    assertThat(RuntimeInfo.getDescriptor().getFullName()).isEqualTo("containerd.types.RuntimeInfo");
    assertThat(numbers(RuntimeInfo.getDescriptor())).containsExactlyEntriesOf(ordered(
        "name", 1, "version", 2, "options", 3, "features", 4, "annotations", 5));
    assertThat(numbers(RuntimeVersion.getDescriptor()))
        .containsExactlyEntriesOf(ordered("version", 1, "revision", 2));
    assertThat(RuntimeInfo.getDescriptor().findFieldByName("annotations").isMapField()).isTrue();
    assertThat(number(Options.getDescriptor(), "config_body")).isEqualTo(3);
  }

  @Test
  void sandboxServiceMethodsAndMessages() {
    ServiceDescriptor sandbox = SandboxProto.getDescriptor().findServiceByName("Sandbox");
    assertThat(sandbox.getFullName()).isEqualTo("containerd.runtime.sandbox.v1.Sandbox");
    assertThat(sandbox.getMethods()).extracting(MethodDescriptor::getName).containsExactly(
        "CreateSandbox", "StartSandbox", "Platform", "StopSandbox", "WaitSandbox",
        "SandboxStatus", "PingSandbox", "ShutdownSandbox", "SandboxMetrics");
    assertThat(sandbox.findMethodByName("PingSandbox").getInputType().getFullName())
        .isEqualTo("containerd.runtime.sandbox.v1.PingRequest");

    assertThat(numbers(CreateSandboxRequest.getDescriptor())).containsExactlyEntriesOf(ordered(
        "sandbox_id", 1, "bundle_path", 2, "rootfs", 3, "options", 4, "netns_path", 5,
        "annotations", 6));
    assertThat(numbers(StartSandboxResponse.getDescriptor()))
        .containsExactlyEntriesOf(ordered("pid", 1, "created_at", 2, "spec", 3));
    assertThat(numbers(StopSandboxRequest.getDescriptor()))
        .containsExactlyEntriesOf(ordered("sandbox_id", 1, "timeout_secs", 2));
    assertThat(numbers(WaitSandboxResponse.getDescriptor()))
        .containsExactlyEntriesOf(ordered("exit_status", 1, "exited_at", 2));
    assertThat(numbers(SandboxStatusResponse.getDescriptor())).containsExactlyEntriesOf(ordered(
        "sandbox_id", 1, "pid", 2, "state", 3, "info", 4, "created_at", 5, "exited_at", 6,
        "extra", 7));
    assertThat(number(SandboxMetricsResponse.getDescriptor(), "metrics")).isEqualTo(1);
    assertThat(SandboxMetricsResponse.getDescriptor().findFieldByName("metrics").getMessageType())
        .isEqualTo(Metric.getDescriptor());
    assertThat(Metric.getDescriptor().getFullName()).isEqualTo("containerd.types.Metric");
    assertThat(numbers(Metric.getDescriptor()))
        .containsExactlyEntriesOf(ordered("timestamp", 1, "id", 2, "data", 3));
    assertThat(Platform.getDescriptor().getFullName()).isEqualTo("containerd.types.Platform");
    assertThat(numbers(Platform.getDescriptor())).containsExactlyEntriesOf(ordered(
        "os", 1, "architecture", 2, "variant", 3, "os_version", 4, "os_features", 5));
  }

  /** Same field names, numbers, types, labels and (by full name but for the package) message types. */
  private static void assertSameLayout(Descriptor a, Descriptor b) {
    assertThat(b.getName()).isEqualTo(a.getName());
    assertThat(b.getFields()).hasSameSizeAs(a.getFields());
    for (FieldDescriptor fa : a.getFields()) {
      FieldDescriptor fb = b.findFieldByNumber(fa.getNumber());
      String where = b.getFullName() + "." + fa.getName();
      assertThat(fb).as(where).isNotNull();
      assertThat(fb.getName()).as(where).isEqualTo(fa.getName());
      assertThat(fb.getType()).as(where).isEqualTo(fa.getType());
      assertThat(fb.isRepeated()).as(where).isEqualTo(fa.isRepeated());
      if (fa.getType() == FieldDescriptor.Type.MESSAGE) {
        if (fa.getMessageType().getFile() == a.getFile()) {
          assertSameLayout(fa.getMessageType(), fb.getMessageType());
        } else {
          assertThat(fb.getMessageType()).as(where).isEqualTo(fa.getMessageType());
        }
      }
      if (fa.getType() == FieldDescriptor.Type.ENUM) {
        assertThat(fb.getEnumType()).as(where).isEqualTo(fa.getEnumType());
      }
    }
  }

  private static Map<String, Integer> numbers(Descriptor message) {
    Map<String, Integer> numbers = new java.util.LinkedHashMap<>();
    message.getFields().forEach(f -> numbers.put(f.getName(), f.getNumber()));
    return numbers;
  }

  private static Map<String, Integer> ordered(Object... namesAndNumbers) {
    Map<String, Integer> map = new java.util.LinkedHashMap<>();
    for (int i = 0; i < namesAndNumbers.length; i += 2) {
      map.put((String) namesAndNumbers[i], (Integer) namesAndNumbers[i + 1]);
    }
    return map;
  }

  private static int number(Descriptor message, String field) {
    FieldDescriptor fd = message.findFieldByName(field);
    assertThat(fd).as(message.getFullName() + "." + field).isNotNull();
    return fd.getNumber();
  }
}
