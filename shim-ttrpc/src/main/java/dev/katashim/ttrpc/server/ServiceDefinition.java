package dev.katashim.ttrpc.server;

import com.google.protobuf.MessageLite;
import com.google.protobuf.Parser;

import java.util.LinkedHashMap;
import java.util.Map;

/** A ttrpc service: its full protobuf name (e.g. {@code containerd.task.v2.Task}) and its methods. */
public record ServiceDefinition(String name, Map<String, MethodDefinition<?, ?>> methods) {

    public ServiceDefinition {
        methods = Map.copyOf(methods);
    }

    public static Builder builder(String fullName) {
        return new Builder(fullName);
    }

    public static final class Builder {
        private final String name;
        private final Map<String, MethodDefinition<?, ?>> methods = new LinkedHashMap<>();

        private Builder(String name) {
            this.name = name;
        }

        public <Req extends MessageLite, Resp extends MessageLite> Builder unary(
                String method, Parser<Req> requestParser, UnaryHandler<Req, Resp> handler) {
            return add(new MethodDefinition<>(method, requestParser, handler, false));
        }

        /** A method whose handler answers from memory and never waits: see {@link MethodDefinition}. */
        public <Req extends MessageLite, Resp extends MessageLite> Builder unaryNonBlocking(
                String method, Parser<Req> requestParser, UnaryHandler<Req, Resp> handler) {
            return add(new MethodDefinition<>(method, requestParser, handler, true));
        }

        private Builder add(MethodDefinition<?, ?> method) {
            if (methods.putIfAbsent(method.name(), method) != null) {
                throw new IllegalArgumentException(name + "/" + method.name() + " is defined twice");
            }
            return this;
        }

        public ServiceDefinition build() {
            return new ServiceDefinition(name, methods);
        }
    }
}
