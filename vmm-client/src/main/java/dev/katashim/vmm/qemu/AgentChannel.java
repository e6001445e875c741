package dev.katashim.vmm.qemu;

import dev.katashim.ttrpc.transport.Endpoint;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * How the shim reaches the agent in the guest: vsock where the host has {@code /dev/vhost-vsock}
 * (agent port 1024, as upstream), else a virtio-serial port named {@code agent.channel.0}
 * ({@code /dev/vport*p*} in the guest) whose host end is a unix socket QEMU serves.
 */
public sealed interface AgentChannel {
    Path VHOST_VSOCK = Path.of("/dev/vhost-vsock");
    int AGENT_VSOCK_PORT = 1024;
    String SERIAL_PORT_NAME = "agent.channel.0";

    Endpoint endpoint();

    List<String> qemuArgs();

    record VirtioSerial(Path socket) implements AgentChannel {
        @Override
        public Endpoint endpoint() {
            return new Endpoint.UnixPath(socket);
        }

        @Override
        public List<String> qemuArgs() {
            return List.of(
                    "-device", "virtio-serial-pci,id=agent-serial",
                    "-chardev", "socket,id=agent,path=" + QemuCommandLine.escape(socket.toString()) + ",server=on,wait=off",
                    "-device", "virtserialport,bus=agent-serial.0,chardev=agent,name=" + SERIAL_PORT_NAME);
        }
    }

    /**
     * A vhost-vsock device with guest context id {@code cid}. The CID is drawn at random from the
     * 32-bit space; should another VM hold it, QEMU fails to start and says so.
     */
    record Vsock(long cid) implements AgentChannel {
        @Override
        public Endpoint endpoint() {
            return new Endpoint.Vsock((int) cid, AGENT_VSOCK_PORT);
        }

        @Override
        public List<String> qemuArgs() {
            return List.of("-device", "vhost-vsock-pci,id=vsock0,guest-cid=" + cid);
        }
    }

    /** The channel this host supports, for a sandbox laid out as {@code files}. */
    static AgentChannel forHost(SandboxFiles files) {
        if (Files.exists(VHOST_VSOCK)) {
            // CIDs 0-2 are reserved; stay below 2^31 so the CID fits Endpoint.Vsock's int.
            return new Vsock(ThreadLocalRandom.current().nextLong(3, Integer.MAX_VALUE));
        }
        return new VirtioSerial(files.agentSocket());
    }
}
