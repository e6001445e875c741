package dev.katashim.agent.guest;

import dev.katashim.ttrpc.transport.Endpoint;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * {@code kata-guest-agent [--listen ADDR|serial://DEVICE]... [--state-dir DIR] [--host-mode] [--runc PATH]
 * [--cgroup-parent /PATH] [--shared-dir DIR]}. Serves until SIGTERM/SIGINT, then destroys every
 * container it runs.
 */
public final class GuestAgentMain {
    private static final Logger log = LoggerFactory.getLogger(GuestAgentMain.class);

    private GuestAgentMain() {
    }

    static final String SERIAL = "serial://";

    static final String USAGE = """
            usage: kata-guest-agent [options]
              --listen ADDR        serve ttrpc on ADDR (repeatable): unix:///run/kata-agent.sock, vsock://-1:1024,
                                   serial:///dev/vport1p1 (a virtio-serial port, for guests without vsock)
                                   default: vsock://-1:1024 (inside a VM); required with --host-mode
              --state-dir DIR      runc root, bundles and console sockets (default /run/kata-agent)
              --host-mode          no-VM sandbox: run containers on this host (NO VM isolation)
              --runc PATH          the runc binary (default: the first runc in /usr/sbin, /usr/bin, ...)
              --cgroup-parent P    containers go to cgroup P/<container id> (default /kata-agent)
              --shared-dir DIR     where CopyFile may write (default /run/kata-containers/shared/containers,
                                   with --host-mode <state dir>/shared/containers)
            """;

    public static void main(String[] args) throws Exception {
        AgentOptions options;
        try {
            options = parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("kata-guest-agent: " + e.getMessage());
            System.err.print(USAGE);
            System.exit(2);
            return;
        }
        GuestAgent agent = GuestAgent.start(options);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            log.info("stopping: destroying the sandbox");
            agent.close();
            stopped.countDown();
        }, "agent-shutdown"));
        stopped.await();
    }

    static AgentOptions parse(String[] args) {
        List<Endpoint> listen = new ArrayList<>();
        List<Path> serialPorts = new ArrayList<>();
        Path stateDir = null;
        boolean hostMode = false;
        Path runc = null;
        String cgroupParent = AgentOptions.DEFAULT_CGROUP_PARENT;
        Path sharedDir = null;
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            switch (arg) {
                case "--listen" -> {
                    String address = value(args, ++i, arg);
                    if (address.startsWith(SERIAL)) {
                        serialPorts.add(Path.of(address.substring(SERIAL.length())));
                    } else {
                        listen.add(Endpoint.parse(address));
                    }
                }
                case "--state-dir" -> stateDir = Path.of(value(args, ++i, arg));
                case "--host-mode" -> hostMode = true;
                case "--runc" -> runc = Path.of(value(args, ++i, arg));
                case "--cgroup-parent" -> cgroupParent = value(args, ++i, arg);
                case "--shared-dir" -> sharedDir = Path.of(value(args, ++i, arg));
                case "-h", "--help" -> {
                    System.out.print(USAGE);
                    System.exit(0);
                }
                default -> throw new IllegalArgumentException("unknown argument " + arg);
            }
        }
        if (listen.isEmpty() && serialPorts.isEmpty()) {
            if (hostMode) {
                throw new IllegalArgumentException("--host-mode needs --listen unix:///path (there is no VM to reach over vsock)");
            }
            listen.add(new Endpoint.Vsock(Endpoint.Vsock.ANY_CID, 1024));
        }
        if (stateDir == null) {
            stateDir = AgentOptions.VM_STATE_DIR;
        }
        if (sharedDir == null) {
            sharedDir = hostMode ? stateDir.resolve("shared/containers") : AgentOptions.VM_SHARED_DIR;
        }
        return new AgentOptions(listen, stateDir, hostMode, runc == null ? AgentOptions.findRunc() : runc,
                cgroupParent, sharedDir, serialPorts);
    }

    private static String value(String[] args, int index, String flag) {
        if (index >= args.length) {
            throw new IllegalArgumentException(flag + " needs a value");
        }
        return args[index];
    }
}
