package dev.katashim.shim.sandbox;

import com.google.protobuf.ByteString;
import dev.katashim.agent.client.AgentClient;
import dev.katashim.protocols.kata.agent.CloseStdinRequest;
import dev.katashim.protocols.kata.agent.ReadStreamRequest;
import dev.katashim.protocols.kata.agent.WriteStreamRequest;
import dev.katashim.shim.io.AgentStreams;
import dev.katashim.ttrpc.status.TtrpcException;

import java.io.IOException;

/** One process's stdio as the agent serves it: WriteStdin, CloseStdin, ReadStdout, ReadStderr. */
final class AgentProcessStreams implements AgentStreams {
    private final AgentClient agent;
    private final String containerId;
    private final String execId;

    AgentProcessStreams(AgentClient agent, String containerId, String execId) {
        this.agent = agent;
        this.containerId = containerId;
        this.execId = execId;
    }

    @Override
    public long writeStdin(byte[] data) throws IOException, InterruptedException {
        try {
            return agent.writeStdin(WriteStreamRequest.newBuilder().setContainerId(containerId).setExecId(execId)
                    .setData(ByteString.copyFrom(data)).build()).getLen();
        } catch (TtrpcException e) {
            throw new IOException("write stdin of " + containerId + "/" + execId + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void closeStdin() throws IOException, InterruptedException {
        try {
            agent.closeStdin(CloseStdinRequest.newBuilder().setContainerId(containerId).setExecId(execId).build());
        } catch (TtrpcException e) {
            throw new IOException("close stdin: " + e.getMessage(), e);
        }
    }

    @Override
    public byte[] readStdout(int maxBytes) throws IOException, InterruptedException {
        try {
            return agent.readStdout(read(maxBytes)).getData().toByteArray();
        } catch (TtrpcException e) {
            throw new IOException("read stdout of " + containerId + "/" + execId + ": " + e.getMessage(), e);
        }
    }

    @Override
    public byte[] readStderr(int maxBytes) throws IOException, InterruptedException {
        try {
            return agent.readStderr(read(maxBytes)).getData().toByteArray();
        } catch (TtrpcException e) {
            throw new IOException("read stderr of " + containerId + "/" + execId + ": " + e.getMessage(), e);
        }
    }

    private ReadStreamRequest read(int maxBytes) {
        return ReadStreamRequest.newBuilder().setContainerId(containerId).setExecId(execId).setLen(maxBytes).build();
    }
}
