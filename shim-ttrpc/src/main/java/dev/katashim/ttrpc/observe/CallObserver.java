package dev.katashim.ttrpc.observe;

/**
 * Sees every call a client makes or a server serves, once, when it finishes. Implementations must
 * be fast and thread-safe: they run on the thread that completed the call.
 */
@FunctionalInterface
public interface CallObserver {
    CallObserver NONE = call -> { };

    void completed(CompletedCall call);

    static CallObserver all(java.util.List<CallObserver> observers) {
        return switch (observers.size()) {
            case 0 -> NONE;
            case 1 -> observers.getFirst();
            default -> {
                CallObserver[] array = observers.toArray(CallObserver[]::new);
                yield call -> {
                    for (CallObserver observer : array) {
                        observer.completed(call);
                    }
                };
            }
        };
    }
}
