package dev.katashim.ttrpc.client;

import com.google.protobuf.Empty;
import dev.katashim.protocols.rpc.Status;
import dev.katashim.protocols.ttrpc.Response;
import dev.katashim.ttrpc.status.StatusCode;
import dev.katashim.ttrpc.status.TtrpcException;
import dev.katashim.ttrpc.testing.RecordingObserver;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import java.util.concurrent.ExecutionException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PendingCallsTest {

    private static TtrpcException failureFor(Status status) {
        PendingCalls pending = new PendingCalls(new RecordingObserver());
        PendingCalls.Pending<Empty> call = new PendingCalls.Pending<>("grpc.AgentService", "CreateContainer", Empty.parser());
        pending.add(1, call);
        pending.complete(1, Unpooled.wrappedBuffer(Response.newBuilder().setStatus(status).build().toByteArray()));
        Throwable[] cause = new Throwable[1];
        assertThatThrownBy(() -> call.future.get()).isInstanceOfSatisfying(ExecutionException.class, e -> cause[0] = e.getCause());
        return (TtrpcException) cause[0];
    }

    /** Found by ClientProperties: a peer's error without a message became an exception with an empty one. */
    @Test
    void aPeersErrorWithoutAMessageStillSaysWhatFailed() {
        TtrpcException e = failureFor(Status.newBuilder().setCode(StatusCode.INTERNAL.number()).build());
        assertThat(e.code()).isEqualTo(StatusCode.INTERNAL);
        assertThat(e.getMessage()).isEqualTo("ttrpc: grpc.AgentService/CreateContainer failed with status INTERNAL and no message");
        TtrpcException unknown = failureFor(Status.newBuilder().setCode(77).build());
        assertThat(unknown.code()).isEqualTo(StatusCode.UNKNOWN);
        assertThat(unknown.getMessage()).contains("failed with status UNKNOWN (code 77) and no message");
    }

    @Test
    void aPeersMessageIsKept() {
        assertThat(failureFor(Status.newBuilder().setCode(5).setMessage("container c1 not found").build()).getMessage())
                .isEqualTo("container c1 not found");
    }
}
