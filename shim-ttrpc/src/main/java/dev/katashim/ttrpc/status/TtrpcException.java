package dev.katashim.ttrpc.status;

import dev.katashim.protocols.rpc.Status;

/** A call that ended with a non-OK status, on either side of the wire. */
public class TtrpcException extends RuntimeException {
    private final StatusCode code;

    public TtrpcException(StatusCode code, String message) {
        super(message);
        this.code = code;
    }

    public TtrpcException(StatusCode code, String message, Throwable cause) {
        super(message, cause);
        this.code = code;
    }

    public StatusCode code() {
        return code;
    }

    public Status toStatus() {
        return Status.newBuilder().setCode(code.number()).setMessage(String.valueOf(getMessage())).build();
    }

    public static TtrpcException fromStatus(Status status) {
        return new TtrpcException(StatusCode.fromNumber(status.getCode()), status.getMessage());
    }

    public static TtrpcException of(StatusCode code, String format, Object... args) {
        return new TtrpcException(code, String.format(format, args));
    }

    @Override
    public String toString() {
        return code + ": " + getMessage();
    }
}
