package dev.katashim.agent.client;

import com.google.protobuf.Descriptors.MethodDescriptor;
import com.google.protobuf.Descriptors.ServiceDescriptor;
import dev.katashim.protocols.kata.agent.AgentProto;
import dev.katashim.protocols.kata.agent.HealthProto;

import java.util.HashMap;
import java.util.Map;

/**
 * Names each agent RPC as the metrics reference (docs/metrics.md) does: {@code grpc.<RequestMessage>}, the full
 * protobuf name of its request ({@code CreateContainer} → {@code grpc.CreateContainerRequest},
 * {@code WriteStdin} → {@code grpc.WriteStreamRequest}). Read from the schema, not retyped.
 */
public final class AgentActions {
    public static final String AGENT_SERVICE = "grpc.AgentService";
    public static final String HEALTH_SERVICE = "grpc.Health";

    /** service → method → action: two lookups and no string building on every call. */
    private static final Map<String, Map<String, String>> BY_SERVICE_METHOD = build();

    private AgentActions() {
    }

    private static Map<String, Map<String, String>> build() {
        Map<String, Map<String, String>> map = new HashMap<>();
        for (ServiceDescriptor service : new ServiceDescriptor[]{
                AgentProto.getDescriptor().findServiceByName("AgentService"),
                HealthProto.getDescriptor().findServiceByName("Health")}) {
            Map<String, String> methods = new HashMap<>();
            for (MethodDescriptor method : service.getMethods()) {
                methods.put(method.getName(), method.getInputType().getFullName());
            }
            map.put(service.getFullName(), Map.copyOf(methods));
        }
        return Map.copyOf(map);
    }

    /** The action name of {@code service/method}, or {@code service/method} itself for a method the schema lacks. */
    public static String of(String service, String method) {
        String action = BY_SERVICE_METHOD.getOrDefault(service, Map.of()).get(method);
        return action != null ? action : service + "/" + method;
    }

    /** Every AgentService method name, in schema order. */
    public static java.util.List<String> agentMethods() {
        return AgentProto.getDescriptor().findServiceByName("AgentService").getMethods().stream()
                .map(MethodDescriptor::getName).toList();
    }
}
