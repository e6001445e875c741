package dev.katashim.shim.task;

import dev.katashim.protocols.containerd.task.v2.ExecProcessRequest;
import dev.katashim.protocols.kata.agent.Process;
import dev.katashim.shim.io.StdioSpec;
import dev.katashim.shim.oci.Bundle;
import dev.katashim.shim.oci.OciJsonToAgentSpec;
import dev.katashim.ttrpc.status.StatusCode;
import dev.katashim.ttrpc.status.TtrpcException;

/** An Exec request's process, checked and in the agent's terms, and its stdio. */
final class ExecSpec {
    private ExecSpec() {
    }

    static Process process(ExecProcessRequest request) {
        if (!request.hasSpec()) {
            throw new TtrpcException(StatusCode.INVALID_ARGUMENT, "exec " + request.getExecId() + " has no process spec");
        }
        Process process = OciJsonToAgentSpec.process(Bundle.parseJson(request.getSpec().getValue().toByteArray(),
                "the process spec of exec " + request.getExecId()));
        if (process.getArgsCount() == 0) {
            throw new TtrpcException(StatusCode.INVALID_ARGUMENT, "Get an invalid spec type: exec " + request.getExecId() + " has no args");
        }
        return process.toBuilder().setTerminal(request.getTerminal()).build();
    }

    static StdioSpec stdio(ExecProcessRequest request) {
        return new StdioSpec(request.getStdin(), request.getStdout(), request.getStderr(), request.getTerminal());
    }
}
