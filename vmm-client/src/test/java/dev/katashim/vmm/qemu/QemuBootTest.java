package dev.katashim.vmm.qemu;

import dev.katashim.ttrpc.transport.Endpoint;
import dev.katashim.vmm.FatalSignals;
import dev.katashim.vmm.VmmExit;
import dev.katashim.vmm.qemu.QemuConfig.GuestRoot;
import dev.katashim.vmm.qemu.QemuConfig.SharedFs;
import dev.katashim.vmm.qmp.QmpGreeting;
import dev.katashim.vmm.qmp.VmStatus;
import dev.katashim.vmm.testing.Console;
import dev.katashim.vmm.testing.TestInitramfs;
import dev.katashim.vmm.testing.TestKernel;
import dev.katashim.vmm.testing.TestSandboxes;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * One real guest (Debian kernel, busybox initramfs) booted once for the class, the accelerator
 * chosen as in production (AUTO). The guest mounts the 9p share, writes a file there, and echoes
 * lines on the agent's virtio-serial port.
 */
@ExtendWith(TestSandboxes.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class QemuBootTest {
    private static final Logger log = LoggerFactory.getLogger(QemuBootTest.class);
    private static final String GUEST_SCRIPT = """
            mount -t 9p -o trans=virtio,version=9p2000.L kataShared /mnt && echo hello > /mnt/from-guest && echo SHARE-OK
            port=$(grep -l agent.channel.0 /sys/class/virtio-ports/*/name | cut -d/ -f5)
            echo "agent port /dev/$port"
            exec 3<>/dev/$port
            while true; do
              while read -r line <&3; do echo "echo:$line" >&3; done
              sleep 0.2
            done
            """;

    private static QemuHypervisor vm;
    private static Path sandbox;
    private static Path shared;
    private static Path memoryDir;
    private static Duration bootTime;

    @BeforeAll
    static void boot() throws Exception {
        TestKernel kernel = TestKernel.get();
        sandbox = TestSandboxes.newSandbox("boot");
        shared = Files.createDirectories(sandbox.resolve("shared"));
        memoryDir = sandbox.resolve("accel-memory");
        Path initrd = TestInitramfs.build(sandbox.resolve("initramfs.img"), kernel, GUEST_SCRIPT);
        QemuConfig config = QemuConfig.of(kernel.vmlinuz(), new GuestRoot.Initrd(initrd))
                .withMemoryMiB(256)
                .withSharedFs(SharedFs.NINE_P, shared);
        vm = new QemuHypervisor(config, new AcceleratorMemory(memoryDir), Duration.ofSeconds(30));
        long start = System.nanoTime();
        vm.start(sandbox);
        Duration toQmp = Duration.ofNanos(System.nanoTime() - start);
        Console.await(sandbox.resolve("console.log"), TestInitramfs.MARKER, Duration.ofSeconds(90));
        bootTime = Duration.ofNanos(System.nanoTime() - start);
        log.info("boot: QEMU controllable after {} ms, marker on the console after {} ms, accelerator {}",
                toQmp.toMillis(), bootTime.toMillis(), vm.acceleratorDecision());
    }

    @AfterAll
    static void stopIfStillRunning() {
        if (vm != null) {
            vm.stop(Duration.ZERO);
        }
    }

    @Test
    @Order(1)
    void bootsToTheMarkerOnTheConsole() {
        assertThat(Console.read(sandbox.resolve("console.log"))).contains(TestInitramfs.MARKER);
        assertThat(bootTime).isLessThan(Duration.ofSeconds(90));
    }

    @Test
    @Order(2)
    void qmpReportsRunning() throws Exception {
        VmStatus status = vm.qmp().orElseThrow().queryStatus();
        assertThat(status).isEqualTo(new VmStatus("running", true));
        QmpGreeting greeting = vm.qmp().orElseThrow().greeting();
        assertThat(greeting.major()).isGreaterThanOrEqualTo(7);
    }

    @Test
    @Order(3)
    void pidIsQemusAndInItsPidFile() throws Exception {
        assertThat(vm.pid()).isPositive();
        assertThat(ProcessHandle.of(vm.pid()).flatMap(p -> p.info().command())).get().asString().contains("qemu-system-x86_64");
        assertThat(Files.readString(sandbox.resolve("qemu.pid")).strip()).isEqualTo(Long.toString(vm.pid()));
        assertThat(vm.metrics().pid()).isEqualTo(vm.pid());
        assertThat(vm.metrics().fatalSignals()).isEqualTo(FatalSignals.NONE);
    }

    @Test
    @Order(4)
    void theAgentChannelIsAVirtioSerialPortOnAUnixSocket() throws Exception {
        assertThat(vm.agentEndpoint()).isEqualTo(new Endpoint.UnixPath(sandbox.resolve("agent.sock")));
        Console.await(sandbox.resolve("console.log"), "agent port /dev/vport", Duration.ofSeconds(30));
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(sandbox.resolve("agent.sock")));
            OutputStream out = Channels.newOutputStream(ch);
            BufferedReader in = new BufferedReader(new InputStreamReader(Channels.newInputStream(ch), StandardCharsets.UTF_8));
            out.write("ping\n".getBytes(StandardCharsets.UTF_8));
            out.flush();
            assertThat(in.readLine()).isEqualTo("echo:ping");
        }
    }

    @Test
    @Order(5)
    void theSharedDirectoryReachesTheGuestOver9p() throws Exception {
        Console.await(sandbox.resolve("console.log"), "SHARE-OK", Duration.ofSeconds(30));
        assertThat(Files.readString(shared.resolve("from-guest"))).isEqualTo("hello\n");
    }

    @Test
    @Order(6)
    void underTcgThereAreNoVcpuCountersAbsentNotZero() throws Exception {
        if (vm.acceleratorDecision().accelerator() != QemuConfig.Accelerator.TCG) {
            return; // KVM hosts: covered by the mapping test
        }
        assertThat(vm.qmp().orElseThrow().queryVcpuStats()).isEmpty();
        assertThat(vm.metrics().vcpu()).isEmpty();
    }

    @Test
    @Order(7)
    void theCommandLineIsSandboxedAndHeadless() {
        assertThat(vm.commandLine()).containsSubsequence("-nographic", "-nodefaults", "-no-user-config")
                .containsSubsequence("-sandbox", "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny")
                .contains("-no-reboot", "-pidfile");
    }

    @Test
    @Order(8)
    void theRunningQemuIsUnderItsSeccompFilterWithFewCapabilities() throws Exception {
        // what -sandbox on did to the process, as the kernel reports it (2: a filter is in force, on every thread)
        String status = Files.readString(Path.of("/proc/" + vm.pid() + "/status"));
        assertThat(status).containsPattern("(?m)^Seccomp:\\s+2$");
        try (var threads = Files.list(Path.of("/proc/" + vm.pid() + "/task"))) {
            for (Path thread : threads.toList()) {
                assertThat(Files.readString(thread.resolve("status"))).as("thread %s", thread.getFileName()).containsPattern("(?m)^Seccomp:\\s+2$");
            }
        }
        // setpriv's bounding set: root's capabilities cut to what the 9p share needs (QemuPrivileges)
        long effective = Long.parseLong(status.lines().filter(l -> l.startsWith("CapEff:")).findFirst().orElseThrow().split("\\s+")[1], 16);
        assertThat(Long.toBinaryString(effective)).as("CapEff %x: chown, dac_override, dac_read_search, fowner, fsetid, mknod", effective)
                .isEqualTo(Long.toBinaryString(0x800001fL));
        // QEMU makes its sockets with the shim's umask (022): no one but their owner may connect (connecting needs write)
        for (String socket : List.of("qmp.sock", "agent.sock")) {
            assertThat(Files.getPosixFilePermissions(sandbox.resolve(socket))).as(socket)
                    .doesNotContain(java.nio.file.attribute.PosixFilePermission.GROUP_WRITE, java.nio.file.attribute.PosixFilePermission.OTHERS_WRITE);
        }
        log.info("QEMU pid {}: {}", vm.pid(), status.lines().filter(l -> l.matches("(Uid|Gid|NoNewPrivs|Seccomp|Seccomp_filters|CapEff):.*"))
                .map(String::strip).toList());
    }

    @Test
    @Order(100)
    void stopQuitsQemuAndLeavesNoProcess() throws Exception {
        long pid = vm.pid();
        long start = System.nanoTime();
        vm.stop(Duration.ofSeconds(10));
        log.info("stop() took {} ms", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
        assertThat(vm.exited()).isCompletedWithValue(0);
        assertThat(vm.exit()).contains(new VmmExit.Exited(0));
        assertThat(ProcessHandle.of(pid).filter(ProcessHandle::isAlive)).isEmpty();
        assertThat(TestSandboxes.leftovers()).isEmpty();
        assertThat(vm.metrics().pid()).isZero();
        assertThat(sandbox.resolve("qmp.sock")).doesNotExist();
        await().atMost(Duration.ofSeconds(1)).until(() -> !Files.exists(sandbox.resolve("agent.sock")));
    }
}
