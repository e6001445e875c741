package dev.katashim.shim.events;

import com.google.protobuf.Message;

/** Where task events go: containerd ({@link EventPublisher}), or a test's recorder. Never blocks. */
@FunctionalInterface
public interface Publisher {
    void publish(String topic, Message event);
}
