package dev.katashim.agent.client;

import com.google.protobuf.Empty;
import com.google.protobuf.MessageLite;
import com.google.protobuf.Parser;
import dev.katashim.protocols.kata.agent.*;
import dev.katashim.protocols.kata.types.Interface;
import dev.katashim.ttrpc.client.CallOptions;
import dev.katashim.ttrpc.client.TtrpcClient;
import dev.katashim.ttrpc.observe.CallObserver;
import dev.katashim.ttrpc.transport.Endpoint;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A typed client of the Kata agent API ({@code grpc.AgentService} and {@code grpc.Health} over
 * ttrpc), on one long-lived connection. Every call carries its timeout ({@link AgentTimeouts}) and
 * is reported to the observers under its metrics action name ({@link AgentActions}). Failures are
 * {@link dev.katashim.ttrpc.status.TtrpcException}s carrying the agent's status.
 *
 * <p>The agent is untrusted (it runs in the guest): its answers are bounded by ttrpc's 4 MiB
 * frame, every non-blocking call by its timeout, and a connection the agent closed, or that the
 * client closed because the agent broke the protocol (an oversized or unknown frame), fails its
 * calls as UNAVAILABLE; the next call dials again (one attempt, {@link #RECONNECT_TIMEOUT}), so a
 * hiccup does not leave the sandbox without an agent. Only {@link #close} ends it for good.
 */
public final class AgentClient implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(AgentClient.class);
    /** How long the one connection attempt after a lost connection may take. */
    static final Duration RECONNECT_TIMEOUT = Duration.ofSeconds(1);

    private final Endpoint endpoint;
    private final CallObserver observer;
    private final AgentTimeouts timeouts;
    private volatile TtrpcClient ttrpc;
    private volatile boolean closed;

    private AgentClient(Endpoint endpoint, TtrpcClient ttrpc, CallObserver observer, AgentTimeouts timeouts) {
        this.endpoint = endpoint;
        this.ttrpc = ttrpc;
        this.observer = observer;
        this.timeouts = timeouts;
    }

    public static Builder builder(Endpoint endpoint) {
        return new Builder(endpoint);
    }

    public Endpoint endpoint() {
        return endpoint;
    }

    /** Whether the current connection is open (a lost one is dialled again by the next call). */
    public boolean isOpen() {
        return ttrpc.isOpen();
    }

    @Override
    public void close() {
        closed = true;
        ttrpc.close();
    }

    /** The connection for the next call: the current one, or a new one if the agent's side went away. */
    private TtrpcClient connection() {
        TtrpcClient current = ttrpc;
        if (current.isOpen() || closed) {
            return current;
        }
        synchronized (this) {
            if (closed || ttrpc.isOpen()) {
                return ttrpc;
            }
            try {
                TtrpcClient fresh = TtrpcClient.builder(endpoint).observer(observer).connectTimeout(RECONNECT_TIMEOUT).connect();
                ttrpc = fresh;
                if (closed) {
                    fresh.close(); // close() ran meanwhile and saw the old connection
                } else {
                    log.info("agent at {}: the connection was lost; connected again", endpoint);
                }
            } catch (IOException e) {
                log.debug("agent at {}: cannot connect again: {}", endpoint, e.getMessage()); // the closed one answers UNAVAILABLE
            }
            return ttrpc;
        }
    }

    private <T extends MessageLite> T invoke(String method, MessageLite request, Parser<T> parser) throws InterruptedException {
        return connection().blockingCall(AgentActions.AGENT_SERVICE, method, request, parser, options(method));
    }

    private CallOptions options(String method) {
        Duration timeout = timeouts.forMethod(method);
        return timeout == null ? CallOptions.DEFAULT : CallOptions.timeout(timeout);
    }

    // grpc.Health

    public HealthCheckResponse check() throws InterruptedException {
        return connection().blockingCall(AgentActions.HEALTH_SERVICE, "Check", CheckRequest.getDefaultInstance(),
                HealthCheckResponse.parser(), options("Check"));
    }

    public VersionCheckResponse version() throws InterruptedException {
        return connection().blockingCall(AgentActions.HEALTH_SERVICE, "Version", CheckRequest.getDefaultInstance(),
                VersionCheckResponse.parser(), options("Version"));
    }

    // grpc.AgentService, in the schema's order

    public Empty createContainer(CreateContainerRequest request) throws InterruptedException {
        return invoke("CreateContainer", request, Empty.parser());
    }

    public Empty startContainer(StartContainerRequest request) throws InterruptedException {
        return invoke("StartContainer", request, Empty.parser());
    }

    public Empty removeContainer(RemoveContainerRequest request) throws InterruptedException {
        return invoke("RemoveContainer", request, Empty.parser());
    }

    public Empty execProcess(ExecProcessRequest request) throws InterruptedException {
        return invoke("ExecProcess", request, Empty.parser());
    }

    public Empty signalProcess(SignalProcessRequest request) throws InterruptedException {
        return invoke("SignalProcess", request, Empty.parser());
    }

    public WaitProcessResponse waitProcess(WaitProcessRequest request) throws InterruptedException {
        return invoke("WaitProcess", request, WaitProcessResponse.parser());
    }

    public Empty updateContainer(UpdateContainerRequest request) throws InterruptedException {
        return invoke("UpdateContainer", request, Empty.parser());
    }

    public Empty updateEphemeralMounts(UpdateEphemeralMountsRequest request) throws InterruptedException {
        return invoke("UpdateEphemeralMounts", request, Empty.parser());
    }

    public StatsContainerResponse statsContainer(StatsContainerRequest request) throws InterruptedException {
        return invoke("StatsContainer", request, StatsContainerResponse.parser());
    }

    public Empty pauseContainer(PauseContainerRequest request) throws InterruptedException {
        return invoke("PauseContainer", request, Empty.parser());
    }

    public Empty resumeContainer(ResumeContainerRequest request) throws InterruptedException {
        return invoke("ResumeContainer", request, Empty.parser());
    }

    public Empty removeStaleVirtiofsShareMounts(RemoveStaleVirtiofsShareMountsRequest request) throws InterruptedException {
        return invoke("RemoveStaleVirtiofsShareMounts", request, Empty.parser());
    }

    public GetDiagnosticDataResponse getDiagnosticData(GetDiagnosticDataRequest request) throws InterruptedException {
        return invoke("GetDiagnosticData", request, GetDiagnosticDataResponse.parser());
    }

    public WriteStreamResponse writeStdin(WriteStreamRequest request) throws InterruptedException {
        return invoke("WriteStdin", request, WriteStreamResponse.parser());
    }

    public ReadStreamResponse readStdout(ReadStreamRequest request) throws InterruptedException {
        return invoke("ReadStdout", request, ReadStreamResponse.parser());
    }

    public ReadStreamResponse readStderr(ReadStreamRequest request) throws InterruptedException {
        return invoke("ReadStderr", request, ReadStreamResponse.parser());
    }

    public Empty closeStdin(CloseStdinRequest request) throws InterruptedException {
        return invoke("CloseStdin", request, Empty.parser());
    }

    public Empty ttyWinResize(TtyWinResizeRequest request) throws InterruptedException {
        return invoke("TtyWinResize", request, Empty.parser());
    }

    public Interface updateInterface(UpdateInterfaceRequest request) throws InterruptedException {
        return invoke("UpdateInterface", request, Interface.parser());
    }

    public Routes updateRoutes(UpdateRoutesRequest request) throws InterruptedException {
        return invoke("UpdateRoutes", request, Routes.parser());
    }

    public Interfaces listInterfaces(ListInterfacesRequest request) throws InterruptedException {
        return invoke("ListInterfaces", request, Interfaces.parser());
    }

    public Routes listRoutes(ListRoutesRequest request) throws InterruptedException {
        return invoke("ListRoutes", request, Routes.parser());
    }

    public Empty addARPNeighbors(AddARPNeighborsRequest request) throws InterruptedException {
        return invoke("AddARPNeighbors", request, Empty.parser());
    }

    public GetIPTablesResponse getIPTables(GetIPTablesRequest request) throws InterruptedException {
        return invoke("GetIPTables", request, GetIPTablesResponse.parser());
    }

    public SetIPTablesResponse setIPTables(SetIPTablesRequest request) throws InterruptedException {
        return invoke("SetIPTables", request, SetIPTablesResponse.parser());
    }

    public Metrics getMetrics(GetMetricsRequest request) throws InterruptedException {
        return invoke("GetMetrics", request, Metrics.parser());
    }

    public Empty memAgentMemcgSet(MemAgentMemcgConfig request) throws InterruptedException {
        return invoke("MemAgentMemcgSet", request, Empty.parser());
    }

    public Empty memAgentCompactSet(MemAgentCompactConfig request) throws InterruptedException {
        return invoke("MemAgentCompactSet", request, Empty.parser());
    }

    public Empty createSandbox(CreateSandboxRequest request) throws InterruptedException {
        return invoke("CreateSandbox", request, Empty.parser());
    }

    public Empty destroySandbox(DestroySandboxRequest request) throws InterruptedException {
        return invoke("DestroySandbox", request, Empty.parser());
    }

    public Empty onlineCPUMem(OnlineCPUMemRequest request) throws InterruptedException {
        return invoke("OnlineCPUMem", request, Empty.parser());
    }

    public Empty reseedRandomDev(ReseedRandomDevRequest request) throws InterruptedException {
        return invoke("ReseedRandomDev", request, Empty.parser());
    }

    public GuestDetailsResponse getGuestDetails(GuestDetailsRequest request) throws InterruptedException {
        return invoke("GetGuestDetails", request, GuestDetailsResponse.parser());
    }

    public Empty memHotplugByProbe(MemHotplugByProbeRequest request) throws InterruptedException {
        return invoke("MemHotplugByProbe", request, Empty.parser());
    }

    public Empty setGuestDateTime(SetGuestDateTimeRequest request) throws InterruptedException {
        return invoke("SetGuestDateTime", request, Empty.parser());
    }

    public Empty copyFile(CopyFileRequest request) throws InterruptedException {
        return invoke("CopyFile", request, Empty.parser());
    }

    public OOMEvent getOOMEvent(GetOOMEventRequest request) throws InterruptedException {
        return invoke("GetOOMEvent", request, OOMEvent.parser());
    }

    public Empty addSwap(AddSwapRequest request) throws InterruptedException {
        return invoke("AddSwap", request, Empty.parser());
    }

    public Empty addSwapPath(AddSwapPathRequest request) throws InterruptedException {
        return invoke("AddSwapPath", request, Empty.parser());
    }

    public VolumeStatsResponse getVolumeStats(VolumeStatsRequest request) throws InterruptedException {
        return invoke("GetVolumeStats", request, VolumeStatsResponse.parser());
    }

    public Empty resizeVolume(ResizeVolumeRequest request) throws InterruptedException {
        return invoke("ResizeVolume", request, Empty.parser());
    }

    public Empty setPolicy(SetPolicyRequest request) throws InterruptedException {
        return invoke("SetPolicy", request, Empty.parser());
    }

    public ListProcessesResponse listProcesses(ListProcessesRequest request) throws InterruptedException {
        return invoke("ListProcesses", request, ListProcessesResponse.parser());
    }

    public static final class Builder {
        private final Endpoint endpoint;
        private final List<CallObserver> observers = new ArrayList<>();
        private AgentTimeouts timeouts = AgentTimeouts.DEFAULTS;
        private Duration dialTimeout = Duration.ofSeconds(30);

        private Builder(Endpoint endpoint) {
            this.endpoint = endpoint;
        }

        /** Reports (action, duration, outcome) of every call. */
        public Builder observer(AgentCallObserver observer) {
            observers.add(observer.asTtrpcObserver());
            return this;
        }

        public Builder timeouts(AgentTimeouts timeouts) {
            this.timeouts = timeouts;
            return this;
        }

        /** How long to keep trying to reach a booting agent (upstream's {@code dial_timeout}). */
        public Builder dialTimeout(Duration timeout) {
            this.dialTimeout = timeout;
            return this;
        }

        /** Connects, retrying with backoff, and returns once the agent answers a health check. */
        public AgentClient connect() throws IOException, InterruptedException {
            CallObserver observer = CallObserver.all(observers);
            TtrpcClient client = AgentDialer.dial(endpoint, dialTimeout, observer);
            return new AgentClient(endpoint, client, observer, timeouts);
        }
    }
}
