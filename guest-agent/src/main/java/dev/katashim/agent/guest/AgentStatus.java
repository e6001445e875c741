package dev.katashim.agent.guest;

import dev.katashim.ttrpc.status.StatusCode;
import dev.katashim.ttrpc.status.TtrpcException;

/**
 * The agent's error answers, one place for their codes and words. Messages for missing things say
 * "not found", which upstream's shim maps to NotFound when it sees only the text.
 */
public final class AgentStatus {
    private AgentStatus() {
    }

    public static TtrpcException containerNotFound(String containerId) {
        return new TtrpcException(StatusCode.NOT_FOUND, "container " + quote(containerId) + " not found");
    }

    public static TtrpcException processNotFound(String containerId, String execId) {
        return new TtrpcException(StatusCode.NOT_FOUND,
                "process " + quote(execId) + " of container " + quote(containerId) + " not found");
    }

    public static TtrpcException alreadyExists(String what) {
        return new TtrpcException(StatusCode.ALREADY_EXISTS, what + " already exists");
    }

    public static TtrpcException invalid(String message) {
        return new TtrpcException(StatusCode.INVALID_ARGUMENT, message);
    }

    public static TtrpcException precondition(String message) {
        return new TtrpcException(StatusCode.FAILED_PRECONDITION, message);
    }

    public static TtrpcException internal(String message) {
        return new TtrpcException(StatusCode.INTERNAL, message);
    }

    public static TtrpcException unimplemented(String method) {
        return new TtrpcException(StatusCode.UNIMPLEMENTED,
                AgentServiceDefinition.SERVICE + "/" + method + " is not implemented by this agent");
    }

    public static String quote(String id) {
        return "\"" + id + "\"";
    }
}
