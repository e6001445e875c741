package dev.katashim.agent.guest;

import dev.katashim.agent.guest.runc.Runc;
import dev.katashim.agent.guest.sys.Libc;
import dev.katashim.sys.MountTable;
import dev.katashim.ttrpc.server.TtrpcServer;
import dev.katashim.ttrpc.transport.Endpoint;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A running agent: the ttrpc server with {@code grpc.AgentService} and {@code grpc.Health} on
 * every endpoint of its options. {@link #close()} stops serving and destroys the sandbox, so no
 * container, runc state or cgroup outlives the agent.
 */
public final class GuestAgent implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(GuestAgent.class);
    public static final String VERSION = versionOf();

    private final AgentOptions options;
    private final AgentService service;
    private final TtrpcServer server;
    private final List<SerialPortServer> serialPorts;
    private boolean closed;

    private GuestAgent(AgentOptions options, AgentService service, TtrpcServer server, List<SerialPortServer> serialPorts) {
        this.options = options;
        this.service = service;
        this.server = server;
        this.serialPorts = serialPorts;
    }

    public static GuestAgent start(AgentOptions options) throws IOException {
        if (options.hostMode()) {
            log.warn("HOST MODE: this agent runs containers directly on the host with runc. There is NO VM isolation: "
                    + "containers share the host kernel. Use it for development and tests only.");
        }
        // Terminal processes are left to us by a detached runc: we must be their reaper.
        Libc.becomeChildSubreaper();
        Runc runc = new Runc(options.runc(), options.runcRoot(), rootIsRamfs());
        AgentService service = new AgentService(options, runc);
        service.cleanLeftovers();
        TtrpcServer server = TtrpcServer.builder()
                .service(AgentServiceDefinition.of(service))
                .service(HealthService.definition(VERSION))
                .build();
        try {
            for (Endpoint endpoint : options.listen()) {
                server.listen(endpoint);
                log.info("kata guest agent {} serving on {}", VERSION, endpoint);
            }
        } catch (IOException | RuntimeException e) {
            server.close();
            throw e;
        }
        List<SerialPortServer> serial = new ArrayList<>();
        for (Path device : options.serialPorts()) {
            serial.add(SerialPortServer.start(device, server.dispatcher()));
            log.info("kata guest agent {} serving on serial port {}", VERSION, device);
        }
        return new GuestAgent(options, service, server, serial);
    }

    public AgentOptions options() {
        return options;
    }

    public AgentService service() {
        return service;
    }

    /** Calls being served right now. */
    public int inFlightCalls() {
        return server.inFlightCalls();
    }

    /** Stops serving (running calls get a moment to finish), then destroys every container. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        serialPorts.forEach(SerialPortServer::close);
        try {
            server.shutdown(Duration.ofMillis(500));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            service.destroyEverything();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        service.close();
        log.info("kata guest agent stopped");
    }

    /** pivot_root(2) cannot leave an initramfs: runc then needs --no-pivot. */
    private static boolean rootIsRamfs() {
        try {
            return MountTable.ofThisProcess().at(Path.of("/"))
                    .map(root -> root.fsType().equals("rootfs") || root.fsType().equals("ramfs"))
                    .orElse(false);
        } catch (IOException e) {
            return false; // assume a normal root
        }
    }

    private static String versionOf() {
        String version = GuestAgent.class.getPackage().getImplementationVersion();
        return version == null ? "0.1.0-SNAPSHOT" : version;
    }
}
