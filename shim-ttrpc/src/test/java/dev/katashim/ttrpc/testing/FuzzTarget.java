package dev.katashim.ttrpc.testing;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.ServiceDescriptor;

import java.util.List;
import java.util.Set;

/** One method a fuzzed server serves: the service name it is registered under, its name and request type. */
public record FuzzTarget(String service, String method, Descriptor requestType) {

    /** Every method of {@code descriptor}, served as {@code serviceName}, but those in {@code skip}. */
    public static List<FuzzTarget> of(ServiceDescriptor descriptor, String serviceName, Set<String> skip) {
        return descriptor.getMethods().stream()
                .filter(m -> !skip.contains(m.getName()))
                .map(m -> new FuzzTarget(serviceName, m.getName(), m.getInputType()))
                .toList();
    }

    public static List<FuzzTarget> of(ServiceDescriptor descriptor) {
        return of(descriptor, descriptor.getFullName(), Set.of());
    }

    @Override
    public String toString() {
        return service + "/" + method;
    }
}
