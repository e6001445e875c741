package dev.katashim.vmm.qemu;

import dev.katashim.vmm.qemu.QemuConfig.Accelerator;
import dev.katashim.vmm.qemu.QemuConfig.GuestRoot;
import dev.katashim.vmm.qmp.QmpEvent;
import dev.katashim.vmm.testing.Console;
import dev.katashim.vmm.testing.TestInitramfs;
import dev.katashim.vmm.testing.TestKernel;
import dev.katashim.vmm.testing.TestSandboxes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** QMP events from real guests: one powers off, one panics (with the pvpanic-pci driver loaded). */
@ExtendWith(TestSandboxes.class)
class GuestEventsTest {

    private static QemuHypervisor boot(String name, String script, List<QmpEvent> events) throws Exception {
        TestKernel kernel = TestKernel.get();
        Path dir = TestSandboxes.newSandbox(name);
        Path initrd = TestInitramfs.build(dir.resolve("initramfs.img"), kernel, script);
        QemuConfig config = QemuConfig.of(kernel.vmlinuz(), new GuestRoot.Initrd(initrd)).withMemoryMiB(256)
                .withAccelerator(Accelerator.TCG);
        QemuHypervisor vm = new QemuHypervisor(config, new AcceleratorMemory(dir.resolve("memory")), Duration.ofSeconds(30));
        vm.addEventListener(events::add);
        vm.start(dir);
        return vm;
    }

    @Test
    void aGuestPoweroffDeliversShutdownAndQemuExits() throws Exception {
        List<QmpEvent> events = new CopyOnWriteArrayList<>();
        QemuHypervisor vm = boot("poweroff", "poweroff -f", events);
        try {
            assertThat(vm.exited().get(90, TimeUnit.SECONDS)).isZero();
            assertThat(Console.read(vm.consoleLog().orElseThrow())).contains(TestInitramfs.MARKER);
            assertThat(events).filteredOn(e -> e instanceof QmpEvent.Shutdown).singleElement()
                    .isEqualTo(new QmpEvent.Shutdown(events.stream().filter(e -> e instanceof QmpEvent.Shutdown)
                            .findFirst().orElseThrow().at(), true, "guest-shutdown"));
        } finally {
            vm.stop(Duration.ofSeconds(2));
        }
    }

    @Test
    void aGuestPanicDeliversGuestPanicked() throws Exception {
        List<QmpEvent> events = new CopyOnWriteArrayList<>();
        QemuHypervisor vm = boot("panic", "echo c > /proc/sysrq-trigger", events);
        try {
            vm.exited().get(90, TimeUnit.SECONDS);
            assertThat(events).as("events of a panicking guest; console:%n%s", Console.read(vm.consoleLog().orElseThrow()))
                    .anySatisfy(e -> assertThat(e).isInstanceOf(QmpEvent.GuestPanicked.class));
            assertThat(events).anySatisfy(e -> assertThat(e).isInstanceOfSatisfying(QmpEvent.Shutdown.class,
                    s -> assertThat(s.guest()).isTrue()));
        } finally {
            vm.stop(Duration.ofSeconds(2));
        }
    }
}
