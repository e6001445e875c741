package dev.katashim.ttrpc.testing;

import dev.katashim.ttrpc.observe.CallObserver;
import dev.katashim.ttrpc.observe.CompletedCall;

import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;

/** Keeps every call it is told about. */
public final class RecordingObserver implements CallObserver {
    private final ConcurrentLinkedQueue<CompletedCall> calls = new ConcurrentLinkedQueue<>();

    @Override
    public void completed(CompletedCall call) {
        calls.add(call);
    }

    public List<CompletedCall> calls() {
        return List.copyOf(calls);
    }

    public List<CompletedCall> callsOf(String method) {
        return calls.stream().filter(c -> c.method().equals(method)).toList();
    }
}
