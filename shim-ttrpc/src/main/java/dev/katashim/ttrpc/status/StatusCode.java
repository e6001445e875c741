package dev.katashim.ttrpc.status;

/** gRPC status codes, as ttrpc carries them in {@code google.rpc.Status.code}. */
public enum StatusCode {
    OK,
    CANCELLED,
    UNKNOWN,
    INVALID_ARGUMENT,
    DEADLINE_EXCEEDED,
    NOT_FOUND,
    ALREADY_EXISTS,
    PERMISSION_DENIED,
    RESOURCE_EXHAUSTED,
    FAILED_PRECONDITION,
    ABORTED,
    OUT_OF_RANGE,
    UNIMPLEMENTED,
    INTERNAL,
    UNAVAILABLE,
    DATA_LOSS,
    UNAUTHENTICATED;

    private static final StatusCode[] BY_NUMBER = values();

    /** The wire number; the enum's order is the gRPC numbering. */
    public int number() {
        return ordinal();
    }

    public static StatusCode fromNumber(int number) {
        return number >= 0 && number < BY_NUMBER.length ? BY_NUMBER[number] : UNKNOWN;
    }
}
