package dev.katashim.protocols;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Descriptors.MethodDescriptor;
import com.google.protobuf.Descriptors.ServiceDescriptor;
import dev.katashim.protocols.cgroups.v1.CPUUsage;
import dev.katashim.protocols.containerd.events.TaskCreate;
import dev.katashim.protocols.containerd.events.TaskDelete;
import dev.katashim.protocols.containerd.events.TaskExecAdded;
import dev.katashim.protocols.containerd.events.TaskExecStarted;
import dev.katashim.protocols.containerd.events.TaskExit;
import dev.katashim.protocols.containerd.events.TaskOOM;
import dev.katashim.protocols.containerd.events.TaskPaused;
import dev.katashim.protocols.containerd.events.TaskResumed;
import dev.katashim.protocols.containerd.events.TaskStart;
import dev.katashim.protocols.containerd.services.events.ttrpc.v1.EventsProto;
import dev.katashim.protocols.containerd.services.events.ttrpc.v1.ForwardRequest;
import dev.katashim.protocols.containerd.task.v2.ConnectResponse;
import dev.katashim.protocols.containerd.task.v2.CreateTaskRequest;
import dev.katashim.protocols.containerd.task.v2.ShimProto;
import dev.katashim.protocols.containerd.task.v2.StateResponse;
import dev.katashim.protocols.containerd.task.v2.UpdateTaskRequest;
import dev.katashim.protocols.containerd.task.v2.WaitResponse;
import dev.katashim.protocols.containerd.types.Mount;
import dev.katashim.protocols.containerd.types.task.ProcessInfo;
import dev.katashim.protocols.containerd.types.task.Status;
import dev.katashim.protocols.runtimeoptions.v1.Options;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Pins the parts of the containerd schemas that a wire peer (containerd 1.6.20+) relies on:
 * full message names (containerd puts them, without any prefix, into Any.type_url), ttrpc
 * service/method names, and field numbers.
 */
class ContainerdSchemaTest {

  @Test
  void fullNamesUsedAsAnyTypeUrls() {
    assertThat(TaskCreate.getDescriptor().getFullName()).isEqualTo("containerd.events.TaskCreate");
    assertThat(TaskStart.getDescriptor().getFullName()).isEqualTo("containerd.events.TaskStart");
    assertThat(TaskDelete.getDescriptor().getFullName()).isEqualTo("containerd.events.TaskDelete");
    assertThat(TaskExit.getDescriptor().getFullName()).isEqualTo("containerd.events.TaskExit");
    assertThat(TaskOOM.getDescriptor().getFullName()).isEqualTo("containerd.events.TaskOOM");
    assertThat(TaskExecAdded.getDescriptor().getFullName())
        .isEqualTo("containerd.events.TaskExecAdded");
    assertThat(TaskExecStarted.getDescriptor().getFullName())
        .isEqualTo("containerd.events.TaskExecStarted");
    assertThat(TaskPaused.getDescriptor().getFullName()).isEqualTo("containerd.events.TaskPaused");
    assertThat(TaskResumed.getDescriptor().getFullName())
        .isEqualTo("containerd.events.TaskResumed");
    assertThat(dev.katashim.protocols.cgroups.v1.Metrics.getDescriptor().getFullName())
        .isEqualTo("io.containerd.cgroups.v1.Metrics");
    assertThat(dev.katashim.protocols.cgroups.v2.Metrics.getDescriptor().getFullName())
        .isEqualTo("io.containerd.cgroups.v2.Metrics");
    assertThat(CreateTaskRequest.getDescriptor().getFullName())
        .isEqualTo("containerd.task.v2.CreateTaskRequest");
    assertThat(ForwardRequest.getDescriptor().getFullName())
        .isEqualTo("containerd.services.events.ttrpc.v1.ForwardRequest");
    assertThat(Options.getDescriptor().getFullName()).isEqualTo("runtimeoptions.v1.Options");
    assertThat(Mount.getDescriptor().getFullName()).isEqualTo("containerd.types.Mount");
    assertThat(ProcessInfo.getDescriptor().getFullName())
        .isEqualTo("containerd.v1.types.ProcessInfo");
  }

  @Test
  void taskServiceHasTheSeventeenShimMethods() {
    ServiceDescriptor task = ShimProto.getDescriptor().findServiceByName("Task");
    assertThat(task).isNotNull();
    assertThat(task.getFullName()).isEqualTo("containerd.task.v2.Task");
    assertThat(task.getMethods())
        .extracting(MethodDescriptor::getName)
        .containsExactly(
            "State", "Create", "Start", "Delete", "Pids", "Pause", "Resume", "Checkpoint",
            "Kill", "Exec", "ResizePty", "CloseIO", "Update", "Wait", "Stats", "Connect",
            "Shutdown");
    for (String emptyReturning :
        List.of("Pause", "Resume", "Checkpoint", "Kill", "Exec", "ResizePty", "CloseIO",
            "Update", "Shutdown")) {
      assertThat(task.findMethodByName(emptyReturning).getOutputType().getFullName())
          .as(emptyReturning)
          .isEqualTo("google.protobuf.Empty");
    }
    assertThat(task.findMethodByName("Create").getInputType().getFullName())
        .isEqualTo("containerd.task.v2.CreateTaskRequest");
  }

  @Test
  void eventsServiceForwardsEnvelopes() {
    ServiceDescriptor events = EventsProto.getDescriptor().findServiceByName("Events");
    assertThat(events.getFullName()).isEqualTo("containerd.services.events.ttrpc.v1.Events");
    assertThat(events.getMethods()).extracting(MethodDescriptor::getName).containsExactly("Forward");
    assertThat(events.findMethodByName("Forward").getOutputType().getFullName())
        .isEqualTo("google.protobuf.Empty");
    assertThat(number(ForwardRequest.getDescriptor(), "envelope")).isEqualTo(1);

    for (Descriptor envelope :
        List.of(
            dev.katashim.protocols.containerd.services.events.ttrpc.v1.Envelope.getDescriptor(),
            dev.katashim.protocols.containerd.types.Envelope.getDescriptor())) {
      assertThat(number(envelope, "timestamp")).isEqualTo(1);
      assertThat(number(envelope, "namespace")).isEqualTo(2);
      assertThat(number(envelope, "topic")).isEqualTo(3);
      assertThat(number(envelope, "event")).isEqualTo(4);
      assertThat(envelope.findFieldByName("event").getMessageType().getFullName())
          .isEqualTo("google.protobuf.Any");
    }
  }

  @Test
  void fieldNumbersPeersDependOn() {
    assertThat(number(TaskExit.getDescriptor(), "container_id")).isEqualTo(1);
    assertThat(number(TaskExit.getDescriptor(), "id")).isEqualTo(2);
    assertThat(number(TaskExit.getDescriptor(), "pid")).isEqualTo(3);
    assertThat(number(TaskExit.getDescriptor(), "exit_status")).isEqualTo(4);
    assertThat(number(TaskExit.getDescriptor(), "exited_at")).isEqualTo(5);
    assertThat(number(TaskDelete.getDescriptor(), "id")).isEqualTo(5);
    assertThat(number(TaskCreate.getDescriptor(), "io")).isEqualTo(4);
    assertThat(number(TaskCreate.getDescriptor(), "pid")).isEqualTo(6);

    assertThat(number(CreateTaskRequest.getDescriptor(), "rootfs")).isEqualTo(3);
    assertThat(number(CreateTaskRequest.getDescriptor(), "options")).isEqualTo(10);
    assertThat(number(StateResponse.getDescriptor(), "status")).isEqualTo(4);
    assertThat(number(StateResponse.getDescriptor(), "exec_id")).isEqualTo(11);
    assertThat(number(WaitResponse.getDescriptor(), "exited_at")).isEqualTo(2);
    assertThat(number(ConnectResponse.getDescriptor(), "task_pid")).isEqualTo(2);
    assertThat(UpdateTaskRequest.getDescriptor().findFieldByName("annotations").isMapField())
        .isTrue();

    assertThat(number(Options.getDescriptor(), "type_url")).isEqualTo(1);
    assertThat(number(Options.getDescriptor(), "config_path")).isEqualTo(2);
    assertThat(number(Mount.getDescriptor(), "options")).isEqualTo(4);

    assertThat(Status.UNKNOWN.getNumber()).isZero();
    assertThat(Status.STOPPED.getNumber()).isEqualTo(3);
    assertThat(Status.PAUSING.getNumber()).isEqualTo(5);
  }

  @Test
  void cgroupMetricsLayout() {
    Descriptor v1 = dev.katashim.protocols.cgroups.v1.Metrics.getDescriptor();
    assertThat(number(v1, "cpu")).isEqualTo(3);
    assertThat(number(v1, "memory")).isEqualTo(4);
    assertThat(number(v1, "memory_oom_control")).isEqualTo(9);
    assertThat(number(CPUUsage.getDescriptor(), "per_cpu")).isEqualTo(4);
    assertThat(number(dev.katashim.protocols.cgroups.v1.MemoryStat.getDescriptor(), "kernel_tcp"))
        .isEqualTo(36);

    Descriptor v2 = dev.katashim.protocols.cgroups.v2.Metrics.getDescriptor();
    assertThat(v2.findFieldByNumber(3)).as("cgroups v2 Metrics has no field 3").isNull();
    assertThat(number(v2, "memory")).isEqualTo(4);
    assertThat(number(v2, "memory_events")).isEqualTo(8);
    assertThat(number(dev.katashim.protocols.cgroups.v2.MemoryStat.getDescriptor(), "swap_limit"))
        .isEqualTo(35);
  }

  private static int number(Descriptor message, String field) {
    FieldDescriptor fd = message.findFieldByName(field);
    assertThat(fd).as(message.getFullName() + "." + field).isNotNull();
    return fd.getNumber();
  }
}
