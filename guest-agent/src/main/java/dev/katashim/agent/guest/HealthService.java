package dev.katashim.agent.guest;

import dev.katashim.protocols.kata.agent.CheckRequest;
import dev.katashim.protocols.kata.agent.HealthCheckResponse;
import dev.katashim.protocols.kata.agent.VersionCheckResponse;
import dev.katashim.ttrpc.server.ServiceDefinition;

/** {@code grpc.Health}: the shim's liveness probe (Check) and version query. */
public final class HealthService {
    public static final String SERVICE = "grpc.Health";
    /** The agent API version this agent speaks (upstream's agent.proto as of this project). */
    public static final String GRPC_VERSION = "0.0.1";

    private HealthService() {
    }

    public static ServiceDefinition definition(String agentVersion) {
        return ServiceDefinition.builder(SERVICE)
                .unary("Check", CheckRequest.parser(), (request, ctx) -> HealthCheckResponse.newBuilder()
                        .setStatus(HealthCheckResponse.ServingStatus.SERVING).build())
                .unary("Version", CheckRequest.parser(), (request, ctx) -> VersionCheckResponse.newBuilder()
                        .setGrpcVersion(GRPC_VERSION).setAgentVersion(agentVersion).build())
                .build();
    }
}
